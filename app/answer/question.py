"""A question on its way through the answer path, and what the path streams back."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from app.answer.types import Answer, Citation, Timings, TokenProbability
from app.ingest.front_matter import source_label
from app.retrieval.base import Retrieval, RetrievalPipeline
from app.vectorstore.snapshot import DocumentRecord


@dataclass
class StreamEvent:
    kind: Literal["sources", "token", "answer"]
    data: Any


@dataclass
class Question:
    """One question on its way through the stages."""

    question: str
    query: str
    history: list[dict[str, str]]
    retrieval: Retrieval
    pipeline: RetrievalPipeline
    timings: Timings
    model: str
    certainty: float | None = None  # found by the answer checks
    tokens: list[TokenProbability] = field(default_factory=list)

    def answer(
        self,
        text: str,
        reason: str,
        sources: list[Citation],
        citations: Sequence[Citation] = (),
        detail: str | None = None,
        model_text: str | None = None,
    ) -> Answer:
        return Answer(
            question=self.question,
            answer=text,
            answerable=reason == "answered",
            reason=reason,
            detail=detail,
            citations=list(citations),
            sources=sources,
            timings=self.timings,
            model=self.model,
            retrieval_query=self.query,
            refusal_probability=None,
            model_text=model_text,
            certainty=self.certainty,
            model_tokens=self.tokens or None,
        )


def labelled(doc: DocumentRecord | None, heading: str | None) -> tuple[str, str | None]:
    """The source's label for the model: the title with the date and author as metadata
    (``Title (published March 4, 2024; by …)``), and the heading unless it is the title."""
    if doc is None:
        return "", heading
    label = source_label(doc.title, doc.published, doc.author)
    return label, None if heading == doc.title else heading
