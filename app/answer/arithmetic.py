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

_TOTAL = re.compile(
    r"\b(?:between them|in total|altogether|combined|add(?:ing|ed)? (?:\w+ )?up|sum)\b", re.I
)
_DIFFERENCE = re.compile(
    r"\bby how (?:much|many)\b|\bhow (?:much|many) (?:\w+ )?(?:more|less|fewer)\b|\bdifference\b",
    re.I,
)
_SCALES = {"thousand": 1e3, "million": 1e6, "billion": 1e9, "trillion": 1e12}
_AMOUNT = re.compile(
    r"(?<![\w.,\[-])(?P<sym>[$€£¥])?\s?(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)(?![\d\]])"
    r"(?:\s(?P<scale>thousand|million|billion|trillion)\b)?(?:\s(?P<unit>[a-z][a-z-]*))?"
)
# the model's own result: "for a total of $163.2 million", "a difference of $300"
_RESULT = re.compile(r"\b(?:total|sum|difference)\s+(?:of\s+|is\s+|was\s+)?(?=[$€£¥]?\s?\d)", re.I)
_MONTHS = re.compile(
    r"january|february|march|april|may|june|july|august|september|october|november|december"
)
_NOT_UNITS = frozenset("a an and or of in on to from for at by with per each the its".split())  # noqa: SIM905


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
        scale = first.scale if all(p.scale == first.scale for p in self.parts) else ""
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
        symbol, scale = m.group("sym") or "", m.group("scale") or ""
        unit = (m.group("unit") or "").lower()
        if unit in _NOT_UNITS or _MONTHS.fullmatch(unit):
            unit = ""
        after = text[m.end("num") : m.end("num") + 12].lower()
        if _MONTHS.match(after.lstrip()) or (
            not symbol and not scale and re.fullmatch(r"(?:1[89]|20)\d\d", m.group("num"))
        ):
            continue  # a day of a month, or a year
        value = float(m.group("num").replace(",", "")) * _SCALES.get(scale, 1.0)
        out.append(Amount(value, symbol, scale, unit, m.start(), m.end()))
    return out


def plan(question: str, answer: str) -> Plan | None:
    """What to work out for ``question`` from ``answer``, or None when it asks for no sum
    or difference, or the answer does not give its parts (two amounts of one kind, or more
    for a sum), or the model's own result is already right."""
    operation = "sum" if _TOTAL.search(question) else None
    if _DIFFERENCE.search(question):
        operation = "difference"
    if operation is None:
        return None
    text = answer
    amounts = _amounts(text)
    if not amounts:
        return None
    # the kind of amount most of them are ("$", "dukats"); a bare number ("Llama 2") is none
    kinds = [a.symbol or a.unit for a in amounts if a.symbol or a.unit]
    kind = max(kinds, key=kinds.count) if kinds else ""
    same = [a for a in amounts if (a.symbol or a.unit) == kind]
    results = [m.end() for m in _RESULT.finditer(text)]
    result = next((a for a in reversed(same) if results and a.start >= results[-1]), None)
    parts = tuple(a for a in same if a is not result)
    if len(parts) < 2 or (operation == "difference" and len(parts) != 2):
        return None
    found = Plan(operation, parts, result, text)
    if result is not None and abs(result.value - found.value) <= 1e-9 * max(1.0, found.value):
        return None  # the model's own result is right
    checked = text
    if result is not None:  # the clause that gives the model's result goes
        clause = re.search(r"[,;]?[^,;.]*$", text[: result.start])
        cut = clause.start() if clause else result.start
        checked = (text[:cut].rstrip() + text[result.end :]).strip()
    return Plan(operation, parts, result, checked)
