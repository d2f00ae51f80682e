"""The retrieval stage's contract: a retriever, then an ordered list of post-processors.

A :class:`Retriever` returns candidates for a query, best first (it may return more than
``k``: post-processors such as a reranker want the pool). Each :class:`PostProcessor`
takes the :class:`Retrieval` so far and returns the next one: it may reorder, drop or
truncate hits, or withhold the answer (``withheld`` names the reason, e.g.
``weak_retrieval``, and the model is not called). The list is wired in
:mod:`app.answer.builder`.

A :class:`Hit` carries each score under its own name, so a gate written for dense cosine
similarity never reads a BM25 or fusion score by mistake.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Protocol

import numpy as np

from app.retrieval.scope import Scope
from app.vectorstore.snapshot import ChunkRecord, Snapshot


@dataclass(frozen=True)
class Hit:
    chunk: ChunkRecord
    fused_score: float  # the order: reciprocal-rank fusion (or the retriever's own score)
    dense_score: float | None = None  # cosine similarity of query and chunk, in [-1, 1]
    bm25_score: float | None = None  # BM25 score (unbounded, > 0), None if not a BM25 hit
    dense_rank: int | None = None
    bm25_rank: int | None = None
    rerank_score: float | None = None  # for a future reranker


@dataclass(frozen=True)
class Retrieval:
    """The state passed along the post-processors."""

    query: str
    k: int
    hits: list[Hit]
    withheld: str | None = None  # the reason to answer without the model, if any
    notes: dict[str, object] = field(default_factory=dict)

    def with_hits(self, hits: list[Hit]) -> Retrieval:
        return replace(self, hits=hits)


class Retriever(Protocol):
    def search(self, query: str, k: int, rows: np.ndarray | None = None) -> list[Hit]:
        """Candidates for ``query``, best first; at least ``k`` if the index has them.
        ``rows``: only these chunk rows may be returned (a scoped question)."""
        ...


class PostProcessor(Protocol):
    name: str

    def __call__(self, retrieval: Retrieval) -> Retrieval: ...


class RetrievalPipeline:
    """One snapshot's retriever and post-processors, run in order."""

    def __init__(
        self, snapshot: Snapshot, retriever: Retriever, post: Sequence[PostProcessor]
    ) -> None:
        self.snapshot = snapshot
        self.retriever = retriever
        self.post = list(post)

    def run(self, query: str, k: int, scope: Scope | None = None) -> Retrieval:
        """``scope``: the documents to search within (:mod:`app.retrieval.scope`)."""
        if scope is None:
            hits = self.retriever.search(query, k)
        else:
            hits = self.retriever.search(query, k, scope.rows(self.snapshot))
        retrieval = Retrieval(query, k, hits)
        for step in self.post:
            retrieval = step(retrieval)
        return retrieval

    def search(self, query: str, k: int, scope: Scope | None = None) -> list[Hit]:
        return self.run(query, k, scope).hits
