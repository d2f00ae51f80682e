"""Sums and differences a question asks for, worked out by ragqa, not by the model.

"How much did A and B get between them?", "Adding up its three rounds, how much has it
raised?", "By how many dollars was the price cut?": the sources give the parts, never the
result, so no sentence can state it. A small model lists the parts and then adds them up
wrongly (4.2 + 31 + 88 = "163.2"), or not at all. So:

- :func:`plan` finds, in the model's answer to such a question, the amounts of one kind
  (the same currency, or the same unit: "2.1 billion dukats", "1.6 billion dukats") and
  the result the model gave, if any ("for a total of $163.2 million");
- the answer checks then judge the answer without the model's result
  (:attr:`Plan.checked`): each part must be stated by a sentence about the question, as any
  figure must;
- when they pass, :meth:`Plan.shown` puts ragqa's own result after the answer, marked as
  worked out from the figures above.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from app.answer.claims import FigureUse, figure_uses, name_phrases, question_parts
from app.text.sentences import prose_sentences
from app.text.words import UPPER, content_stems

_TOTAL = re.compile(
    r"\b(?:between them|in total|altogether|combined|add(?:ing|ed)? (?:\w+ )?up|sum)\b", re.I
)
_DIFFERENCE = re.compile(
    r"\bby how (?:much|many)\b|\bhow (?:much|many) (?:\w+ )?(?:more|less|fewer)\b|\bdifference\b"
    r"|\bhow much (?:higher|lower|bigger|smaller|larger|cheaper|dearer)\b"
    # "How much did the bill go up between 2021 and 2024?"
    r"|\bhow (?:much|many) (?:did|does|do|has|have|had)\b.*\b(?:go(?:ne)? (?:up|down)|went (?:up|down)|"
    # … but not "How much did it rise to?" (the new level); "rise from A to B" is a change
    r"rise|risen|increase|fall|fallen|drop|decrease|grow|grown|shrink|climb|decline)\b"
    r"(?!(?:(?!\bfrom\b).)*\bto\b)",
    re.I,
)
_YEAR = re.compile(r"(?:19|20)\d\d")
_SCALES = {"thousand": 1e3, "million": 1e6, "billion": 1e9, "trillion": 1e12}
_SHORT_SCALES = {"k": "thousand", "m": "million", "bn": "billion"}  # "£1.5m", "€2.1bn"
_AMOUNT = re.compile(
    r"(?<![\w.,\[-])(?P<sym>[$€£¥])?\s?(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)(?![\d\]])"
    r"(?:(?P<short>bn|m|k)\b|\s(?P<scale>thousand|million|billion|trillion)\b)?"
    r"(?:\s(?P<unit>[a-z][a-z-]*))?"
)
# the model's own result: "for a total of $163.2 million", "a combined $3.7 billion",
# "… $3.7 billion in total"
_RESULT_BEFORE = re.compile(
    r"\b(?:total(?:ling|s)?|sum|difference|combined|altogether)\s+(?:of\s+|is\s+|was\s+)?$", re.I
)
_RESULT_AFTER = re.compile(r"^\s*(?:in total|altogether|between them|combined)\b", re.I)
# what is no part of a sum: "at a $100 million valuation", "worth $2 billion"
_NOT_PART = re.compile(r"\b(?:valu(?:ation|ed at)|worth|at a)\s*$", re.I)
_MONTHS = re.compile(
    r"january|february|march|april|may|june|july|august|september|october|november|december"
)
# a unit is a plural noun ("homes", "dukats") or a measure ("GWh", "kg"); not "built", "in"
_PLURALS = frozenset({"people", "children", "staff", "men", "women"})
_MEASURE = re.compile(r"(?:[kmgt]wh|[kmg]w|kg|km|t|m|ha|mwp)", re.I)


@dataclass(frozen=True)
class Amount:
    value: float
    symbol: str
    scale: str
    unit: str
    start: int
    end: int


@dataclass(frozen=True)
class Plan:
    operation: str  # "sum" or "difference"
    parts: tuple[Amount, ...]
    result: Amount | None  # the model's own result, when it gave one
    checked: str  # the answer without the model's result, for the checks

    @property
    def value(self) -> float:
        if self.operation == "sum":
            return sum(p.value for p in self.parts)
        return abs(self.parts[0].value - self.parts[1].value)

    def text(self) -> str:
        """The result as the parts write their amounts ("3.7 billion dukats", "$300")."""
        first = self.parts[0]
        # the largest scale the parts use that the result reaches ("€2.1bn" and "€500m":
        # 2.6 billion)
        scales = sorted({p.scale for p in self.parts if p.scale}, key=_SCALES.__getitem__)
        scale = next((c for c in reversed(scales) if self.value >= _SCALES[c]), "")
        number = self.value / _SCALES.get(scale, 1.0)
        shown = f"{number:,.2f}".rstrip("0").rstrip(".")
        return f"{first.symbol}{shown}{' ' + scale if scale else ''}{' ' + first.unit if first.unit else ''}"

    def shown(self, answer: str) -> str:
        """``answer`` (checked, cited) with ragqa's result after it."""
        what = "Together that makes" if self.operation == "sum" else "The difference is"
        return (
            f"{answer.rstrip()} {what} {self.text()} (worked out by ragqa from the figures above)."
        )


def _amounts(text: str) -> list[Amount]:
    out = []
    for m in _AMOUNT.finditer(text):
        symbol = m.group("sym") or ""
        scale = m.group("scale") or ""
        if m.group("short"):
            if not symbol:
                continue  # "68 m" is metres, "5k" a distance: only money has a letter scale
            scale = _SHORT_SCALES[m.group("short")]
        unit = (m.group("unit") or "").lower()
        if not (
            len(unit) > 3 and unit.endswith("s") or _MEASURE.fullmatch(unit) or unit in _PLURALS
        ):
            unit = ""
        after = text[m.end("num") : m.end("num") + 12].lower()
        if _MONTHS.match(after.lstrip()) or not (symbol or scale or unit):
            continue  # a day of a month, a year, a bare number ("Llama 2", "Phase 1")
        value = float(m.group("num").replace(",", "")) * _SCALES.get(scale, 1.0)
        out.append(Amount(value, symbol, scale, unit, m.start(), m.end()))
    return out


def plan(question: str, answer: str) -> Plan | None:
    """What to work out for ``question`` from ``answer``: None when it asks for no sum or
    difference, or the answer's first sentence does not give the parts (two amounts of
    one kind for a difference, two or more for a sum). The model's own result, right or
    wrong, is taken out of :attr:`Plan.checked`: no source states it, only its parts."""
    operation = "sum" if _TOTAL.search(question) else None
    if _DIFFERENCE.search(question):
        operation = "difference"
    first = prose_sentences(answer)
    if operation is None or not first:
        return None
    text = answer[: first[0].end]  # the claim: the sentence the checks verify
    amounts = [a for a in _amounts(text) if not _NOT_PART.search(text[: a.start])]
    kinds = [a.symbol or a.unit for a in amounts]
    if not kinds:
        return None
    kind = max(kinds, key=kinds.count)  # "$", "dukats": the kind most of them are
    same = [a for a in amounts if (a.symbol or a.unit) == kind]
    result = _result(text, same, operation)
    parts = tuple(a for a in same if a is not result)
    if len(parts) < 2 or (operation == "difference" and len(parts) != 2):
        return None
    checked = answer
    if result is not None:  # the clause that gives the model's result goes
        cut = max(text.rfind(", ", 0, result.start), text.rfind("; ", 0, result.start))
        cut = cut if cut >= 0 else result.start
        checked = (answer[:cut].rstrip() + answer[result.end :]).strip()
    return Plan(operation, parts, result, checked)


def _result(text: str, same: list[Amount], operation: str) -> Amount | None:
    """The amount that is the model's own result: said to be one ("a total of …", "… in
    total"), or equal to the sum (or difference) of the others."""
    said = [
        a
        for a in same
        if _RESULT_BEFORE.search(text[: a.start]) or _RESULT_AFTER.match(text[a.end :])
    ]
    if said:  # the last one: "raised a total of $4.2 million in seed, …, for a total of $163.2"
        return said[-1]
    for a in same:
        rest = [b.value for b in same if b is not a]
        value = (
            sum(rest) if operation == "sum" else abs(rest[0] - rest[1]) if len(rest) == 2 else None
        )
        if len(rest) >= 2 and value is not None and abs(a.value - value) <= 1e-9 * max(1.0, value):
            return a
    return None


def asks_difference(question: str) -> bool:
    return bool(_DIFFERENCE.search(question))


def difference_stated(result: FigureUse, sentence: str) -> bool:
    """The sentence gives two figures of one kind whose difference is ``result``: "fell
    from 88,000 in 2017 to 51,000" states a drop of 37,000 (for a question that asks by
    how much; years are no amounts)."""
    if result.figure.prefix or result.figure.number.count(".") > 1:
        return False
    value = float(result.figure.number)
    amounts = [
        (float(u.figure.number), u.unit)
        for u in figure_uses(sentence)
        if u.percent == result.percent
        and u.currency == result.currency
        and not u.figure.prefix
        and u.figure.number.count(".") < 2
        and not _YEAR.fullmatch(u.text.strip())
        and (u.unit is None or result.unit is None or u.unit == result.unit)
    ]
    return any(
        abs(abs(a - b) - value) <= 1e-9 * max(1.0, value)
        for i, (a, unit_a) in enumerate(amounts)
        for b, unit_b in amounts[i + 1 :]
        if unit_a == unit_b or unit_a is None or unit_b is None  # not 30 staff and 50 stores
    )


# a figure several share ("had between them 11,200"); "combined" only in a source sentence,
# where it is read beside the figure, not in an answer ("the combined heat and power plant")
_SHARED = r"between them|jointly|together"
_JOINT = re.compile(rf"\b(?:{_SHARED}|combined)\b(?! with)", re.I)
_JOINT_ANSWER = re.compile(rf"\b(?:{_SHARED})\b(?! with)", re.I)


def _asks_one(question: str) -> bool:
    """The question asks about one party, not a total or several ("… and …")."""
    # "Vellum and Ostrel", "… and who …": several; "mechanics and drivers" is one kind
    several = re.search(rf"{UPPER}[\w'’&.-]*\s+and\s+(?:the\s+)?{UPPER}", question)
    return not (_TOTAL.search(question) or several or len(question_parts(question)) > 1)


def joint_answer(claim: str, question: str) -> bool:
    """The answer gives a figure shared by several ("carried between them 2.3 million")
    while the question asks about one: a total is no one's share."""
    first = re.search(r"\d", claim)  # "46%, more than the next five put together" is no total
    before = claim[: first.start()] if first else ""
    return _asks_one(question) and bool(_JOINT_ANSWER.search(before))


def occurrences(fig: FigureUse, text: str) -> list[re.Match[str]]:
    """Where ``text`` writes the figure whole ("19" is not in "2019", nor in "19.5")."""
    return list(re.finditer(rf"(?<![\d.,]){re.escape(fig.text.strip())}(?![\d]|[.,]\d)", text))


_LEAVES_OUT = re.compile(r"\b(?:not counting|excluding|leaving out|apart from|other than)\b", re.I)


# "paid the remaining £19 million from its own funds and a bank loan"
_TWO_SOURCES = re.compile(
    r"^[^,.;]{0,30}?\b(?:from|with|through|out of)\s+(?P<a>[^,.;]{1,30}?)\s+and\s+(?P<b>[^,.;]{1,30})"
)


def _one_source(after: str, question: str) -> bool:
    """The figure comes from two sources together and the question asks about one of them
    ("How much was paid with the bank loan?")."""
    m = _TWO_SOURCES.search(after)
    if not m:
        return False
    asked = content_stems(question)
    a, b = (bool(content_stems(m.group(k)) & asked) for k in ("a", "b"))
    return a != b


def _numbered(text: str) -> list[frozenset[str]]:
    """Names that number one of a series ("Quay 3", "Phase 2"): the name with its number."""
    return [
        frozenset({m.group(1).lower(), m.group(2)})
        for m in re.finditer(rf"\b({UPPER}[\w'’-]*)s?\s+(\d{{1,3}})\b(?![,.]\d)", text)
    ]


def _same(asked: frozenset[str], named: frozenset[str]) -> bool:
    """One name, as far as the words show; a numbered one only with its number."""
    if any(w.isdigit() for w in asked | named):
        return asked == named
    return bool(asked & named)


def one_of_a_total(result: FigureUse, sentence: str, question: str) -> bool:
    """The sentence gives the figure as the total of several it names ("Quaymark and
    Skelter had between them 11,200 customers"), while the question asks about one of
    them: it does not state that one's share."""
    if not _asks_one(question):
        return False
    series = _numbered(question)  # "Quay 3" is asked, not every quay
    asked = [n for n in name_phrases(question) if not any(n < q for q in series)] + series
    for m in occurrences(result, sentence):
        before = sentence[: m.start()]
        if _one_source(sentence[m.end() :], question):
            return True
        if not _JOINT.search(sentence[max(0, m.start() - 40) : m.end() + 40]):
            continue
        if _LEAVES_OUT.search(question):  # "… not counting the mine": one part of a total
            return True
        numbered = _numbered(before)  # "Quay 3 and Quay 5": two quays, told by number
        named = [n for n in name_phrases(before) if not any(n < x for x in numbered)] + numbered
        # "Ludmere Heat is …": a sentence's opening word is read as no name, so one word will do
        ours = [n for n in named if any(_same(a, n) for a in asked)]
        others = [n for n in named if not any(_same(a, n) for a in asked)]
        if ours and others and re.search(r"\band\b", before):
            return True
    return False


# a figure written as the level something came to or from ("down to 33 megalitres a
# day", "rose from $120"), not as the change ("cut by 8", "a fall of 8")
_LEVEL = r"\b(?:to|from|reached|at)\s+(?:about\s+|around\s+|only\s+|just\s+)?[$€£¥]?\s?"


def level_for_change(question: str, claim: str, support: list[str]) -> str:
    """Asked by how much something changed, the answer's one figure is one that the
    sentences stating it give only as the level it came to or from ("By the end of 2024
    leakage was down to 33 megalitres a day" does not say leakage was cut *by* 33): why,
    or "" when it is not (or the question asks no change). An answer with more figures
    gives the levels beside the change ("by 18%, to 2,140") or the two levels whose
    difference ragqa works out (:func:`plan`)."""
    if not asks_difference(question) or not support:
        return ""
    figures = [u for u in figure_uses(claim) if not _YEAR.fullmatch(u.text.strip())]
    if len(figures) != 1:  # "by 18%, to 2,140", "from $499 to $199": the change is there too
        return ""
    for use in figures:
        number = re.escape(use.text.strip().lstrip("$€£¥ ").rstrip("%").strip())
        written = [s for s in support if re.search(rf"(?<![\d.,]){number}(?![\d,]*\d)", s)]
        if written and all(re.search(_LEVEL + number + r"(?![\d,]*\d)", s, re.I) for s in written):
            return f"the question asks by how much; {use.text} is the level the sources give, not the change"
    return ""
