"""Retrieval post-processors: each one small step over a :class:`Retrieval`.

To add one (a reranker, a sentence selector), write a class with a ``name`` and
``__call__(retrieval) -> Retrieval`` and add it to the list in
:func:`app.answer.builder.retrieval_pipeline`.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from app.embedding import Embedder
from app.retrieval.base import Retrieval
from app.retrieval.sentence_budget import narrowed, passage_sentences
from app.text.words import content_stems, subject_words

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


class SentenceWindow:
    """Narrow each passage to the sentences that bear on the question.

    A 96-token chunk usually answers with one sentence; the rest is reading time for a
    CPU model (prompt tokens are most of an answer's latency). In each hit the sentence
    most like the question (dense cosine of the sentence and the question, plus the share
    of the question's content words it holds) is kept with ``before`` sentences before it
    (they often carry its subject: "It opened in 2019.") and ``after`` after it. The
    window is a contiguous span of the document, so citations and their offsets stay
    exact. Chunks of at most ``before + after + 1`` sentences are kept whole.
    """

    name = "sentence_window"

    def __init__(self, embedder: Embedder, before: int = 1, after: int = 1) -> None:
        self.embedder = embedder
        self.before = before
        self.after = after

    def __call__(self, retrieval: Retrieval) -> Retrieval:
        width = self.before + self.after + 1
        # a Markdown heading line is no sentence: the prompt labels the passage with it
        split = [passage_sentences(h) for h in retrieval.hits]
        todo = [i for i, s in enumerate(split) if len(s) > width]
        if not todo:
            return retrieval
        texts = [s.text for i in todo for s in split[i]]
        vecs = self.embedder.embed(texts)
        qvec = self.embedder.embed_query(retrieval.query)
        asked = subject_words(retrieval.query)
        hits = list(retrieval.hits)
        pos = 0
        for i in todo:
            sents = split[i]
            cos = vecs[pos : pos + len(sents)] @ qvec
            pos += len(sents)
            scores = [
                float(c) + (len(asked & content_stems(s.text)) / len(asked) if asked else 0.0)
                for c, s in zip(cos, sents, strict=True)
            ]
            best = max(range(len(sents)), key=scores.__getitem__)
            lo = max(0, min(best - self.before, len(sents) - width))
            hi = min(len(sents) - 1, lo + width - 1)
            hits[i] = narrowed(hits[i], sents[lo], sents[hi])
        return retrieval.with_hits(hits)
