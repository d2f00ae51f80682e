"""Hybrid retrieval: dense FAISS search fused with BM25 by reciprocal rank fusion.

Each hit keeps its dense cosine similarity (the score users see and the refusal threshold
reads) and its fused RRF score (the order). Near-duplicate chunks, such as the overlap of
neighbouring chunks, are dropped so the model never reads the same passage twice.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

import numpy as np

from app.embedding import Embedder
from app.vectorstore.store import ChunkRecord, Snapshot

log = logging.getLogger(__name__)
logging.getLogger("bm25s").setLevel(logging.WARNING)  # it logs every index build at DEBUG

RRF_K = 60
DUPLICATE_COSINE = 0.95
_WORD = re.compile(r"\w+", re.UNICODE)


@dataclass(frozen=True)
class Hit:
    chunk: ChunkRecord
    score: float  # dense cosine similarity of query and chunk, in [-1, 1]
    fused: float  # reciprocal-rank-fusion score used for ordering
    dense_rank: int | None
    bm25_rank: int | None


class _BM25:
    """A BM25 index over the chunks of one snapshot (built once per snapshot)."""

    def __init__(self, snapshot: Snapshot) -> None:
        import bm25s

        self._bm25s = bm25s
        self.retriever = bm25s.BM25()
        corpus = [self._text(snapshot, c) for c in snapshot.chunks]
        self.n = len(corpus)
        if self.n:
            tokens = bm25s.tokenize(corpus, stopwords="en", show_progress=False)
            self.retriever.index(tokens, show_progress=False)

    @staticmethod
    def _text(snapshot: Snapshot, c: ChunkRecord) -> str:
        doc = snapshot.documents.get(c.doc_id)
        title = doc.title if doc else ""
        return f"{title} {c.heading or ''} {c.text}"

    def search(self, query: str, k: int) -> list[int]:
        if not self.n or not _WORD.search(query):
            return []
        tokens = self._bm25s.tokenize([query], stopwords="en", show_progress=False)
        if not tokens.vocab:
            return []
        k = min(k, self.n)
        rows, scores = self.retriever.retrieve(tokens, k=k, show_progress=False)
        return [int(r) for r, s in zip(rows[0], scores[0], strict=True) if s > 0]


class Retriever:
    def __init__(self, snapshot: Snapshot, embedder: Embedder, hybrid: bool = True) -> None:
        self.snapshot = snapshot
        self.embedder = embedder
        self.hybrid = hybrid
        self._bm25 = _BM25(snapshot) if hybrid else None

    def search(self, query: str, k: int, candidates: int | None = None) -> list[Hit]:
        snap = self.snapshot
        if snap.n_chunks == 0:
            return []
        pool = candidates or max(4 * k, 20)
        qv = self.embedder.embed_query(query)
        scores, ids = snap.search(qv, pool)
        dense_rank = {int(r): i for i, r in enumerate(ids)}
        fused: dict[int, float] = {int(r): 1.0 / (RRF_K + i + 1) for i, r in enumerate(ids)}
        bm25_rank: dict[int, int] = {}
        if self._bm25 is not None:
            for i, r in enumerate(self._bm25.search(query, pool)):
                bm25_rank[r] = i
                fused[r] = fused.get(r, 0.0) + 1.0 / (RRF_K + i + 1)
        rows = sorted(fused, key=lambda r: fused[r], reverse=True)
        # dense similarity for every candidate (BM25-only ones were not scored by FAISS)
        cos = snap.embeddings[rows] @ qv
        hits: list[Hit] = []
        chosen_vecs: list[np.ndarray] = []
        for r, s in zip(rows, cos, strict=True):
            vec = snap.embeddings[r]
            if any(float(vec @ v) >= DUPLICATE_COSINE for v in chosen_vecs):
                continue
            chosen_vecs.append(vec)
            hits.append(
                Hit(snap.chunks[r], float(s), fused[r], dense_rank.get(r), bm25_rank.get(r))
            )
            if len(hits) >= k:
                break
        return hits
