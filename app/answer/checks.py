"""Answer checks: run in order over the model's answer; the first that objects withholds it.

A check is any object with a ``name`` and ``__call__(ctx) -> Verdict | None``. ``None``
lets the answer through; a :class:`Verdict` withholds it: the answer becomes ragqa's one
fixed refusal sentence, ``answerable`` is false, ``reason`` is the check's ``name`` and
``detail`` the verdict's. The list is wired in :func:`app.answer.builder.answer_checks`.

Known ``reason`` values (``Answer.reason``): ``answered``; ``empty_index`` and
``weak_retrieval`` (retrieval withheld the question, see
:class:`app.retrieval.postprocess.WeakRetrievalGate`); and the names of the checks below,
``model_refused``, ``unsupported``, ``unsure`` and ``not_stated``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from app.answer.arithmetic import asks_difference, difference_stated, level_for_change
from app.answer.citations import ParsedAnswer, is_refusal
from app.answer.claims import claim_units, figure_uses
from app.answer.grounding import answer_sentence, figures, figures_supported, unsupported_names
from app.answer.occasion import YEAR, Setting, year_missing
from app.answer.reading import split_sentences
from app.answer.types import Citation
from app.answer.verify import Passage, Sentence, check_claim
from app.ingest.front_matter import source_label
from app.llm.token_scores import TokenScore, least_sure
from app.text.tables import Headers

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AnswerContext:
    """What a check may look at."""

    question: str
    sources: Sequence[Citation]  # the passages the model was given, numbered as it saw them
    raw: str  # the model's text as generated
    parsed: ParsedAnswer  # with invalid [n] markers removed, and the valid ones cited
    # per source, the header lines of tables whose rows it holds without them
    tables: Sequence[Headers] = ()
    # per source, the (up to three) sentences of its document just before it
    # (``citing.lead_sentences``)
    leads: Sequence[tuple[str, ...]] = ()
    # each token of ``raw`` with the probability the model gave it (empty when the
    # backend cannot say: :class:`app.llm.base.ScoresTokens`)
    scores: Sequence[TokenScore] = ()
    # per source, its document's text before it (``citing.earlier_texts``)
    earlier: Sequence[str] = ()
    # what checks found, for the stages after them (``support``: the sentences that
    # state the answer, which the citations then point at; ``certainty``: see Unsure)
    notes: dict[str, Any] = field(default_factory=dict)

    @property
    def passages(self) -> list[str]:
        return [s.text for s in self.sources]


@dataclass(frozen=True)
class Verdict:
    """Why a check withholds the answer, in words (becomes ``Answer.detail``)."""

    detail: str


class AnswerCheck(Protocol):
    name: str  # becomes Answer.reason when the check withholds

    def __call__(self, ctx: AnswerContext) -> Verdict | None: ...


@dataclass(frozen=True)
class Withheld:
    reason: str
    detail: str


def run_checks(checks: Sequence[AnswerCheck], ctx: AnswerContext) -> Withheld | None:
    """The first check that withholds the answer, or None when all let it through."""
    for check in checks:
        verdict = check(ctx)
        if verdict is not None:
            log.info("answer withheld by %s: %s", check.name, verdict.detail)
            return Withheld(check.name, verdict.detail)
    return None


class ModelRefused:
    """The model said the sources do not hold the answer (or said nothing)."""

    name = "model_refused"

    def __call__(self, ctx: AnswerContext) -> Verdict | None:
        text = ctx.parsed.text
        if text and not is_refusal(text):
            return None
        return Verdict(f"the model said the sources do not answer it: {text[:300]!r}")


class FiguresInSources:
    """The answer states figures that appear in none of the sources."""

    name = "unsupported"

    def __call__(self, ctx: AnswerContext) -> Verdict | None:
        if figures_supported(ctx.parsed.text, ctx.question, ctx.passages):
            return None
        if asks_difference(ctx.question) and _differences(ctx):
            return None  # "by how much did it fall?": a result no source can state
        return Verdict(f"its figures are in no source: {ctx.parsed.text[:500]!r}")


def _differences(ctx: AnswerContext) -> bool:
    """Every figure of the answer's first sentence that no source gives is the difference
    of two figures that one source sentence, or two in a row, give ("$19 a tonne …,
    against the $27 a tonne" for "by how much did it undercut …?": $8). Whether a sentence
    about the question states it is then for :class:`ClaimStated` to judge."""
    available = set().union(*(figures(p) for p in ctx.passages))
    missing = [
        u for u in figure_uses(answer_sentence(ctx.parsed.text)) if not u.figure.found_in(available)
    ]
    pairs = []  # each sentence with the next, which may give the other figure
    for src in ctx.sources:
        texts = [s.text for s in split_sentences(src.number, src.text)]
        pairs += [" ".join(texts[i : i + 2]) for i in range(len(texts))]
    return bool(missing) and all(any(difference_stated(u, p) for p in pairs) for u in missing)


class NamesInSources:
    """The answer's first sentence names something no source (nor its title) names."""

    name = "unsupported"

    def __call__(self, ctx: AnswerContext) -> Verdict | None:
        labels = [f"{s.title} {s.heading or ''}" for s in ctx.sources]
        names = unsupported_names(ctx.parsed.text, ctx.question, [*ctx.passages, *labels])
        if not names:
            return None
        return Verdict(f"{', '.join(names)} in no source: {ctx.parsed.text[:500]!r}")


class ClaimStated:
    """No sentence of the sources states the answer's claim about the question's subject.

    The claim is the answer's first sentence: the figures (with their units) and names it
    adds to the question, or the words it adds when it has neither. One sentence (two for
    a two-part question) must state them and be about what the question asks, see
    :mod:`app.answer.verify`. The sentences found are kept in ``ctx.notes["support"]`` so
    that the citations point at them. A claim the model was at least ``sure`` of
    (:func:`claim_certainty`) that no sentence states is looked for again with the
    lenient reading (``check_claim(lenient=True)``: short names, "the Fund", sentences
    that refer back).
    """

    name = "not_stated"

    def __init__(self, min_subject: float = 0.2, sure: float = 1.1) -> None:
        self.min_subject = min_subject
        self.sure = sure  # a claim this certain is read again leniently when withheld

    def __call__(self, ctx: AnswerContext) -> Verdict | None:
        # each passage is read with the label the model saw: the title, date and byline
        passages = [
            Passage(
                s.number,
                source_label(s.title, s.published, s.author),
                s.heading or "",
                s.text,
                ctx.tables[i] if i < len(ctx.tables) else (),
                ctx.leads[i] if i < len(ctx.leads) else (),
                ctx.earlier[i] if i < len(ctx.earlier) else "",
            )
            for i, s in enumerate(ctx.sources)
        ]
        check = check_claim(ctx.parsed.text, ctx.question, passages, min_subject=self.min_subject)
        certainty = claim_certainty(ctx)
        if not check.stated and certainty is not None and certainty >= self.sure:
            check = check_claim(
                ctx.parsed.text, ctx.question, passages, min_subject=self.min_subject, lenient=True
            )
        if check.stated:
            level = level_for_change(
                ctx.question, answer_sentence(ctx.parsed.text), [s.text for s in check.support]
            )
            if level:  # "by how much did it fall?" answered with what it fell to
                return Verdict(level)
            ctx.notes["support"] = check.support
            return None
        return Verdict(check.detail or "no sentence of the sources states the answer")


class Unsure:
    """The model was unsure of the words that make its claim.

    The claim is what :func:`app.answer.claims.claim_units` finds in the answer's first
    sentence: the figures and names it adds to the question (or, with neither, the words
    it adds). Its *certainty* is the least probability the model gave any token of them
    as it generated (:mod:`app.llm.token_scores`), kept in ``ctx.notes["certainty"]``.
    A model that copies the figure the sources give for the very thing asked is sure of
    it; one that picks a figure or name among several that could fit, because none is
    given for the thing asked, is not. Below ``min_certainty`` the answer is withheld.
    Without scores (a backend that cannot give them) the check lets the answer through.
    """

    name = "unsure"

    def __init__(self, min_certainty: float) -> None:
        self.min_certainty = min_certainty

    def __call__(self, ctx: AnswerContext) -> Verdict | None:
        certainty = claim_certainty(ctx)
        if certainty is None or certainty >= self.min_certainty:
            return None
        return Verdict(
            f"the model was unsure of its claim ({', '.join(ctx.notes['claims'])[:200]}): it "
            f"gave one of its words a probability of {certainty:.2f}, below "
            f"RAGQA_MIN_CERTAINTY ({self.min_certainty})"
        )


def claim_certainty(ctx: AnswerContext) -> float | None:
    """The least probability the model gave a token of its claim (the figures and names
    the answer adds to the question, or the words it adds when it has neither), kept in
    ``ctx.notes["certainty"]``; None without scores or when no claim is found in them."""
    if "certainty" not in ctx.notes:
        ctx.notes["certainty"] = None
        if ctx.scores:  # no claim to find without them
            known = "\n".join(ctx.passages)
            figs, names, words = claim_units(ctx.parsed.text, ctx.question, known)
            ctx.notes["claims"] = [u.text for u in figs] + sorted(names) + sorted(words)
            ctx.notes["certainty"] = least_sure(ctx.scores, ctx.notes["claims"])
    certainty: float | None = ctx.notes["certainty"]
    return certainty


class YearStated:
    """The question names a year that the sentence stating the answer does not give, nor
    the sentence before it, its heading or its document's label and date line: the figure
    is that of another year (:mod:`app.answer.occasion`). Runs after :class:`ClaimStated`,
    on the sentences it found."""

    name = "not_stated"

    def __call__(self, ctx: AnswerContext) -> Verdict | None:
        support: list[Sentence] = ctx.notes.get("support") or []
        # a difference is read from a sentence and the one after it ("In 2019 it made
        # 201,000 tonnes; in 2023 only 164,000"): so are the years it is between
        wide = asks_difference(ctx.question)
        settings = [_setting(s, ctx.sources, ctx.leads, wide) for s in support]
        year = year_missing(ctx.question, [s for s in settings if s is not None])
        if year is None:
            return None
        return Verdict(
            f"the question asks about {year}; the sentence that states the answer does not"
        )


_THAT_YEAR = re.compile(r"\b(?:that|the same|that same) year\b", re.I)


def _setting(
    sentence: Sentence,
    sources: Sequence[Citation],
    leads: Sequence[tuple[str, ...]],
    wide: bool = False,
) -> Setting | None:
    at_source = next((i for i, s in enumerate(sources) if s.number == sentence.source), None)
    if at_source is None:
        return None
    source = sources[at_source]
    lead = leads[at_source][-1] if at_source < len(leads) and leads[at_source] else ""
    sentences = split_sentences(source.number, source.text)
    at = next((i for i, s in enumerate(sentences) if s.start == sentence.start), 0)
    text = sentence.text
    if wide:  # the whole sentence the clause is part of, and the next
        at = next((i for i, s in enumerate(sentences) if s.end > sentence.start), at)
        text = " ".join(s.text for s in sentences[at : at + 2])
    before = [lead, *(s.text for s in sentences[:at])]
    # "Its revenue that year was …": the year is the one the sentence before names
    prior = before[-1]
    if _THAT_YEAR.search(f"{prior} {text}") and not YEAR.search(prior) and len(before) > 1:
        prior = f"{before[-2]} {prior}"
    return Setting(
        text,
        prior,
        source.heading or "",
        source_label(source.title, source.published, source.author),
    )
