"""Retrieval post-processors: each one small step over a :class:`Retrieval`.

To add one (a reranker, a sentence selector), write a class with a ``name`` and
``__call__(retrieval) -> Retrieval`` and add it to the list in
:func:`app.answer.builder.retrieval_pipeline`.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from app.retrieval.base import Retrieval

DUPLICATE_COSINE = 0.95


class DropNearDuplicates:
    """Drop chunks whose embedding is ≥ ``threshold`` similar to a better-ranked kept one
    (the overlap of neighbouring chunks), so the model never reads a passage twice."""

    name = "dedupe"

    def __init__(self, embeddings: np.ndarray, threshold: float = DUPLICATE_COSINE) -> None:
        self.embeddings = embeddings
        self.threshold = threshold

    def __call__(self, retrieval: Retrieval) -> Retrieval:
        if not retrieval.hits:
            return retrieval
        vecs = self.embeddings[[h.chunk.row for h in retrieval.hits]]
        similar = vecs @ vecs.T >= self.threshold
        kept: list[int] = []
        for i in range(len(retrieval.hits)):
            if not any(similar[i, j] for j in kept):
                kept.append(i)
        return retrieval.with_hits([retrieval.hits[i] for i in kept])


class TopK:
    """Keep the best ``k``."""

    name = "top_k"

    def __call__(self, retrieval: Retrieval) -> Retrieval:
        return retrieval.with_hits(retrieval.hits[: retrieval.k])


class WeakRetrievalGate:
    """Withhold the answer (``weak_retrieval``) when the best *dense cosine* is below
    ``min_score`` (RAGQA_MIN_SCORE), or (``empty_index``) when there is no hit at all.

    Only ``Hit.dense_score`` is read; hits without one (from a retriever that does not
    embed) are not judged, so another retriever's scale can never trip this gate."""

    name = "weak_retrieval"

    def __init__(self, min_score: float) -> None:
        self.min_score = min_score

    def __call__(self, retrieval: Retrieval) -> Retrieval:
        if not retrieval.hits:
            return replace(retrieval, withheld="empty_index")
        dense = [h.dense_score for h in retrieval.hits if h.dense_score is not None]
        if dense and max(dense) < self.min_score:
            return replace(retrieval, withheld=self.name)
        return retrieval
