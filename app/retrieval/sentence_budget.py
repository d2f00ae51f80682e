"""Send the model the sentences that bear on the question, not whole chunks (issue 15).

On a CPU the prompt is most of an answer's latency, and a 96-token chunk usually answers
with one sentence. :class:`SentenceBudget` ranks every sentence of the retrieved chunks by
how like the question it is and keeps the best, each with the sentence before it (which
often carries its subject: "It opened in 2019."), until a token budget is spent. A source
costs its label too, so the budget favours few sources read well over many read thinly.
What is kept of each chunk is one contiguous span of the document (from its first kept
sentence to its last), so citations and their offsets stay exact.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from app.embedding import Embedder
from app.retrieval.base import Hit, Retrieval
from app.text.sentences import Sentence, prose_sentences
from app.text.words import content_stems, subject_words

LABEL_TOKENS = 24  # what a source's "[n] (title — heading)" line costs, about


def passage_sentences(hit: Hit) -> list[Sentence]:
    """A chunk's sentences; a Markdown heading line is none (the label carries it)."""
    return [s for s in prose_sentences(hit.chunk.text) if not s.text.startswith("#")]


def narrowed(hit: Hit, first: Sentence, last: Sentence) -> Hit:
    """``hit`` cut to the span of its chunk from ``first`` to ``last`` (offsets exact)."""
    chunk = hit.chunk
    return replace(
        hit,
        chunk=replace(
            chunk,
            text=chunk.text[first.start : last.end],
            start=chunk.start + first.start,
            end=chunk.start + last.end,
        ),
    )


def sentence_scores(embedder: Embedder, question: str, sentences: list[Sentence]) -> np.ndarray:
    """Dense cosine with the question, plus the share of the question's content words each
    sentence holds, each word weighted by how rare it is among these sentences: the words
    every passage repeats (the subject's name) tell them apart least."""
    if not sentences:
        return np.zeros(0, dtype=np.float32)
    cos = embedder.embed([s.text for s in sentences]) @ embedder.embed_query(question)
    asked = subject_words(question)
    words = [asked & content_stems(s.text) for s in sentences]
    n = len(sentences)
    weight = {w: float(np.log(1 + n / (1 + sum(w in ws for ws in words)))) for w in asked}
    total = sum(weight.values()) or 1.0
    share = [sum(weight[w] for w in ws) / total for ws in words]
    return cos + np.asarray(share, dtype=np.float32)


class SentenceBudget:
    name = "sentence_budget"

    def __init__(
        self, embedder: Embedder, budget: int, before: int = 1, whole_first: bool = True
    ) -> None:
        self.whole_first = whole_first
        self.embedder = embedder
        self.budget = budget
        self.before = before

    def __call__(self, retrieval: Retrieval) -> Retrieval:
        hits = retrieval.hits
        split = [passage_sentences(h) for h in hits]
        flat = [(i, j) for i, sents in enumerate(split) for j in range(len(sents))]
        if not flat:
            return retrieval
        scores = sentence_scores(self.embedder, retrieval.query, [split[i][j] for i, j in flat])
        costs = [self.embedder.count_tokens([s.text for s in sents]) for sents in split]
        spans: dict[int, tuple[int, int]] = {}  # hit -> (first, last) kept sentence
        used = 0
        if self.whole_first and split[0]:
            spans[0] = (0, len(split[0]) - 1)
            used = sum(costs[0]) + LABEL_TOKENS
        for k in np.argsort(-scores, kind="stable"):
            i, j = flat[int(k)]
            lo, hi = max(0, j - self.before), j
            if i in spans:
                lo, hi = min(lo, spans[i][0]), max(hi, spans[i][1])
            cost = sum(costs[i][lo : hi + 1]) + LABEL_TOKENS
            had = sum(costs[i][spans[i][0] : spans[i][1] + 1]) + LABEL_TOKENS if i in spans else 0
            if spans and used + cost - had > self.budget:
                continue
            used += cost - had
            spans[i] = (lo, hi)
        kept = [  # rank order, as retrieved
            narrowed(hit, split[i][spans[i][0]], split[i][spans[i][1]])
            for i, hit in enumerate(hits)
            if i in spans
        ]
        return retrieval.with_hits(kept)
