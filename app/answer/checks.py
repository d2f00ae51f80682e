"""Answer checks: run in order over the model's answer; the first that objects withholds it.

A check is any object with a ``name``, a fixed refusal ``message`` and
``__call__(ctx) -> Verdict | None``. ``None`` lets the answer through; a :class:`Verdict`
withholds it: the answer becomes ``verdict.message or check.message``, ``answerable`` is
false and ``reason`` is the check's ``name``. The list is wired in
:func:`app.answer.builder.answer_checks`.

Known ``reason`` values (``Answer.reason``): ``answered``; ``empty_index`` and
``weak_retrieval`` (retrieval withheld the question, see
:class:`app.retrieval.postprocess.WeakRetrievalGate`); and the names of the checks below,
``model_refused`` and ``unsupported``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from app.answer.citations import ParsedAnswer, is_refusal
from app.answer.grounding import figures_supported, unsupported_names
from app.answer.prompt import REFUSAL
from app.answer.types import Citation

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AnswerContext:
    """What a check may look at."""

    question: str
    sources: Sequence[Citation]  # the passages the model was given, numbered as it saw them
    raw: str  # the model's text as generated
    parsed: ParsedAnswer  # with invalid [n] markers removed, and the valid ones cited

    @property
    def passages(self) -> list[str]:
        return [s.text for s in self.sources]


@dataclass(frozen=True)
class Verdict:
    """Why a check withholds the answer. ``message`` replaces the check's fixed message
    (a model refusal keeps the model's own words)."""

    detail: str
    message: str | None = None


class AnswerCheck(Protocol):
    name: str  # becomes Answer.reason when the check withholds
    message: str  # the answer shown instead

    def __call__(self, ctx: AnswerContext) -> Verdict | None: ...


@dataclass(frozen=True)
class Withheld:
    reason: str
    message: str
    detail: str


def run_checks(checks: Sequence[AnswerCheck], ctx: AnswerContext) -> Withheld | None:
    """The first check that withholds the answer, or None when all let it through."""
    for check in checks:
        verdict = check(ctx)
        if verdict is not None:
            log.info("answer withheld by %s: %s", check.name, verdict.detail)
            return Withheld(check.name, verdict.message or check.message, verdict.detail)
    return None


class ModelRefused:
    """The model said the sources do not hold the answer (or said nothing)."""

    name = "model_refused"
    message = REFUSAL

    def __call__(self, ctx: AnswerContext) -> Verdict | None:
        text = ctx.parsed.text
        if text and not is_refusal(text):
            return None
        return Verdict("the model refused", message=text or self.message)


class FiguresInSources:
    """The answer states figures that appear in none of the sources."""

    name = "unsupported"
    message = (
        "The articles do not state this: the figures the model proposed appear in none of "
        "the retrieved passages, so ragqa does not report them."
    )

    def __call__(self, ctx: AnswerContext) -> Verdict | None:
        if figures_supported(ctx.parsed.text, ctx.question, ctx.passages):
            return None
        return Verdict(f"its figures are in no source: {ctx.parsed.text[:500]!r}")


class NamesInSources:
    """The answer's first sentence names something no source (nor its title) names."""

    name = "unsupported"
    message = (
        "The articles do not state this: the model's answer names something that appears "
        "in none of the retrieved passages, so ragqa does not report it."
    )

    def __call__(self, ctx: AnswerContext) -> Verdict | None:
        labels = [f"{s.title} {s.heading or ''}" for s in ctx.sources]
        names = unsupported_names(ctx.parsed.text, ctx.question, [*ctx.passages, *labels])
        if not names:
            return None
        return Verdict(f"{', '.join(names)} in no source: {ctx.parsed.text[:500]!r}")
