"""Hybrid retrieval: dense FAISS search fused with BM25 by reciprocal rank fusion.

Every candidate keeps its dense cosine similarity (``Hit.dense_score``: the score users
see and the weak-retrieval gate reads), its BM25 score if BM25 found it, and the fused
RRF score that orders them. Near-duplicates and the cut to ``k`` are post-processors
(:mod:`app.retrieval.postprocess`).
"""

from __future__ import annotations

import logging
import re

import numpy as np

from app.embedding import Embedder
from app.retrieval.base import Hit
from app.vectorstore.snapshot import ChunkRecord, Snapshot

log = logging.getLogger(__name__)

RRF_K = 60
_WORD = re.compile(r"\w+", re.UNICODE)


class _BM25:
    """A BM25 index over the chunks of one snapshot (built once per snapshot)."""

    def __init__(self, snapshot: Snapshot) -> None:
        import bm25s

        # bm25s sets its own logger to DEBUG when imported, and logs every index build
        logging.getLogger("bm25s").setLevel(logging.WARNING)
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

    def search(self, query: str, k: int, rows: np.ndarray | None = None) -> list[tuple[int, float]]:
        """(row, BM25 score) pairs, best first, scores > 0 only; with ``rows``, only those
        rows can score (a weight mask: bm25s ranks within the scope, no over-fetch)."""
        if not self.n or not _WORD.search(query) or (rows is not None and len(rows) == 0):
            return []
        tokens = self._bm25s.tokenize([query], stopwords="en", show_progress=False)
        if not tokens.vocab:
            return []
        k = min(k, self.n)
        mask = None
        if rows is not None:
            mask = np.zeros(self.n, dtype=np.float32)
            mask[rows] = 1.0
            k = min(k, len(rows))
        found, scores = self.retriever.retrieve(tokens, k=k, show_progress=False, weight_mask=mask)
        allowed = None if rows is None else set(rows.tolist())
        return [
            (int(r), float(s))
            for r, s in zip(found[0], scores[0], strict=True)
            if s > 0 and (allowed is None or int(r) in allowed)
        ]


def rrf_scores(rankings: list[list[int]], k: int = RRF_K) -> dict[int, float]:
    """Reciprocal rank fusion: each ranking (rows, best first) gives its row at rank r
    (from 1) ``1 / (k + r)``; a row's score is the sum over the rankings that hold it.
    ``sorted`` keeps ties in the order rows were first seen (dense first)."""
    fused: dict[int, float] = {}
    for ranking in rankings:
        for i, row in enumerate(ranking):
            fused[row] = fused.get(row, 0.0) + 1.0 / (k + i + 1)
    return fused


class HybridRetriever:
    """FAISS top-N and BM25 top-N (N = max(4k, 20)), fused by reciprocal rank."""

    def __init__(
        self, snapshot: Snapshot, embedder: Embedder, hybrid: bool = True, rrf_k: int = RRF_K
    ) -> None:
        self.snapshot = snapshot
        self.rrf_k = rrf_k
        self.embedder = embedder
        self._bm25 = _BM25(snapshot) if hybrid else None

    def search(self, query: str, k: int, rows: np.ndarray | None = None) -> list[Hit]:
        """``rows``: the scope (chunk rows) both searches are restricted to, if any."""
        snap = self.snapshot
        if snap.n_chunks == 0:
            return []
        pool = max(4 * k, 20)
        qv = self.embedder.embed_query(query)
        _, ids = snap.search(qv, pool, rows)
        dense_rank = {int(r): i for i, r in enumerate(ids)}
        bm25: dict[int, tuple[int, float]] = {}
        if self._bm25 is not None:
            for i, (r, score) in enumerate(self._bm25.search(query, pool, rows)):
                bm25[r] = (i, score)
        fused = rrf_scores([[int(r) for r in ids], list(bm25)], self.rrf_k)
        ranked = sorted(fused, key=lambda r: fused[r], reverse=True)
        # dense similarity for every candidate (BM25-only ones were not scored by FAISS)
        cos = snap.embeddings[ranked] @ qv
        return [
            Hit(
                snap.chunks[r],
                fused_score=fused[r],
                dense_score=float(s),
                bm25_score=bm25[r][1] if r in bm25 else None,
                dense_rank=dense_rank.get(r),
                bm25_rank=bm25[r][0] if r in bm25 else None,
            )
            for r, s in zip(ranked, cos, strict=True)
        ]
