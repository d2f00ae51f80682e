"""Which of the answer's figures and names a source sentence states, and what a figure
there measures, read from the words around it.

A sentence about the question's subject may still give its figure for another measure or
another year: "supplies about 540,000 people" does not say how many the company employs,
"800 metres from the edge of the pit" is no depth, and in "$412 in 2021 and $468 in 2024"
the $468 is not 2023's bill. What a figure is compared with ("cheaper to run than a
diesel bus") is not what it is about.
"""

from __future__ import annotations

import re

from app.answer.arithmetic import asks_difference, difference_stated, occurrences, one_of_a_total
from app.answer.claims import FigureUse, figure_stated, figure_uses, question_parts
from app.answer.holdings import held_by_other
from app.answer.mismatch import after_reversed, reversed_transfers
from app.answer.occasion import asked_years
from app.answer.reading import Passage, Sentence
from app.text.tables import row_read
from app.text.words import STOPWORDS, content_stems, stem, subject_words

# each measure a question may ask, and the words a sentence must use to give it
_MEASURES: tuple[tuple[re.Pattern[str], re.Pattern[str]], ...] = (
    (  # how many people a company employs, not how many it serves
        re.compile(
            r"\bhow many\b.*\b(?:employ(?:s|ed)?|employees|staff|workforce|work(?:s|ed)? (?:at|for|in))\b",
            re.I,
        ),
        re.compile(r"\b(?:employ\w*|staff\w*|work\w*|jobs?|workforce|payroll|headcount)\b", re.I),
    ),
    (re.compile(r"\bhow deep\b|\bdepth\b", re.I), re.compile(r"\b(?:deep|depth)\b", re.I)),
    (re.compile(r"\bhow wide\b|\bwidth\b", re.I), re.compile(r"\b(?:wide|width|across)\b", re.I)),
)


def measure_missing(question: str, text: str) -> bool:
    """The question asks for a measure (staff, depth, width) that ``text``, a sentence
    read with its context, does not give."""
    if len(question_parts(question)) > 1:  # each part asks its own; the answer checks them
        return False
    return any(asked.search(question) and not given.search(text) for asked, given in _MEASURES)


def covered_units(
    passage: Passage,
    s: Sentence,
    figs: list[FigureUse],
    names: set[str],
    question: str,
    context: str,
    around: str = "",
) -> set[str]:
    """The answer's figures and names the sentence states: none when it, read with its
    ``context``, gives another measure than the one asked; not a figure it gives as a
    total of several, dated with another year, paid the other way, or held by the party
    the question asks a share of (:mod:`app.answer.holdings`). ``around``: the
    sentence with the ones either side of it, where a difference asked for may take its
    other figure."""
    if measure_missing(question, context):
        return set()
    # a table row is read cell by cell with its header: "20" under "Chargers"
    cells = row_read(passage.text, s.start, passage.tables) or [s.text]
    covered = {
        u.text
        for u in figs
        if any(figure_stated(u, c) for c in cells)
        and not one_of_a_total(u, s.text, question)
        and not dated_otherwise(u, s.text, question)
        and not spared(u, s.text, question)
        and not given_to_other(u, s.text, question, figs)
        and not money_of_another_kind(u, s.text, question)
        and not held_by_other(u, s.text, question)
    }
    verbs = reversed_transfers(question, s.text)
    if any(rev for _, rev in verbs):  # "Halvard gives the Trust …": not what the Trust pays
        covered = {u for u in covered if not after_reversed(s.text, u, verbs)}
    if asks_difference(question):  # "by how many did it fall?": the sentence's from and to,
        # or one beside it gives the other ("… $14.6 million. In 2024 … fell to $9.1 million")
        covered |= {u.text for u in figs if difference_stated(u, around or s.text)}
    return covered | {n for n in names if n in s.text.lower()}


# the kinds of money a sentence may name a sum as, each with the words a question asks it by
_MONEY_KINDS = tuple(
    (frozenset(named.split()), frozenset(map(stem, ways.split())))
    for named, ways in (
        (
            "income revenue revenues turnover takings sales",
            "income revenue turnover takings sales earn earned earns make made",
        ),
        ("profit profits surplus", "profit surplus earn earned make made"),
        ("loss losses deficit", "loss lose lost deficit"),
        ("budget budgets", "budget"),
        ("debt debts borrowing borrowings", "debt owe owes owed borrow borrowed borrowing"),
        ("valuation", "valuation value valued worth"),
    )
)
_QUALIFIERS = frozenset({"net", "operating", "gross", "underlying"})
_QUALIFIED = re.compile(rf"\b({'|'.join(_QUALIFIERS)})\s+(?:profit|income|loss|revenue|earnings)")


def money_of_another_kind(fig: FigureUse, sentence: str, question: str) -> bool:
    """The sentence names the sum as a kind of money the question does not ask about:
    "The zoo's income in 2024 was £14.2 million" does not say what a ticket costs, and
    "its operating profit $14.6 million" is no net profit."""
    if not fig.currency:
        return False
    asked = {stem(w) for w in re.findall(r"[a-z]+", question.lower())}
    measured = set(_QUALIFIED.findall(question.lower()))  # "net profit": not operating profit
    for m in occurrences(fig, sentence):
        before = re.findall(r"[a-z]+", sentence[max(0, m.start() - 40) : m.start()].lower())[-5:]
        if any(named.intersection(before) and not asked & ways for named, ways in _MONEY_KINDS):
            return True
        said = set(before) & _QUALIFIERS
        if measured and said and not said & measured:
            return True
    return False


# a figure where a sentence writes one, and the words either side that say what it is
_FIGURE_AT = re.compile(r"(?<![\w-])[$€£¥]?\s?\d(?:[\d,.]*\d)?(?:\s?%)?")
_YEAR_ONLY = re.compile(r"(?:19|20)\d\d")
NEAR = 6  # words each side of a figure, up to the next figure of its kind
CLEARER = 2  # how many more of the question's words the other figure must have around it


def _same_kind(a: FigureUse, b: FigureUse) -> bool:
    if a.percent or b.percent or a.currency or b.currency:
        return a.percent == b.percent and a.currency == b.currency
    return a.unit == b.unit and not _YEAR_ONLY.fullmatch(b.text.strip())


def given_to_other(fig: FigureUse, sentence: str, question: str, figs: list[FigureUse]) -> bool:
    """The sentence gives two figures of the answer's kind and says the other one is what
    the question asks: "65% had launched apps and 94% were building on OpenAI's API"
    does not answer what share were building on OpenAI's API with 65%. The words either
    side of each figure (up to the next figure of its kind; the sentence's opening, before
    the first, is said of all) are read for the question's subject words; the other figure
    must have ``CLEARER`` more of them. A two-part question, or an answer that gives both
    figures, is left to the other checks."""
    if len(question_parts(question)) > 1:
        return False
    found = []
    for m in _FIGURE_AT.finditer(sentence):
        uses = figure_uses(sentence[m.start() : m.end() + 50])
        if uses and _same_kind(fig, uses[0]):
            found.append((m.start(), m.end(), uses[0].figure.number))
    given = {u.figure.number for u in figs}
    mine = [i for i, f in enumerate(found) if f[2] == fig.figure.number]
    others = [i for i, f in enumerate(found) if f[2] not in given]
    if len(mine) != 1 or not others:
        return False
    asked = subject_words(question)

    def said_of(i: int) -> int:
        # the words before the first figure are said of every figure after them
        lo = found[i - 1][1] if i > 0 else found[i][0]
        hi = found[i + 1][0] if i + 1 < len(found) else len(sentence)
        left = re.findall(r"[\w'’-]+", sentence[lo : found[i][0]])[-NEAR:]
        right = re.findall(r"[\w'’-]+", sentence[found[i][1] : hi])[:NEAR]
        return len(asked & content_stems(" ".join(left + right)))

    return max(map(said_of, others)) - said_of(mine[0]) >= CLEARER


# "which saved some 2,600 lorry journeys": what did not happen, not what was needed
_SPARED = re.compile(
    r"\b(?:sav(?:ed|es|ing)|avoid(?:ed|s|ing)?|spar(?:ed|es|ing))\s+(?:\w+\s+)?"
    r"(?:some|about|around|nearly|almost|roughly|an estimated)?\s*$",
    re.I,
)


def spared(fig: FigureUse, sentence: str, question: str) -> bool:
    """The sentence gives the figure as what was saved or avoided, and the question does
    not ask what was saved."""
    if re.search(r"\b(?:sav|avoid|spar)", question, re.I):
        return False
    found = occurrences(fig, sentence)
    return bool(found) and all(_SPARED.search(sentence[: m.start()]) for m in found)


_GAP = r"(?:(?!\b(?:than|since|from|after|before|until)\b)[^,.;:\d]){0,20}?"
_YEAR_AFTER = re.compile(rf"^{_GAP}\b(?:in|for|during)\s+((?:19|20)\d\d)\b(?![-–/]\d)")
_YEAR_BEFORE = re.compile(rf"\b(?:in|for|during)\s+((?:19|20)\d\d),?\s+{_GAP}$")


def dated_otherwise(fig: FigureUse, sentence: str, question: str) -> bool:
    """The question asks about one year and the sentence dates this figure, wherever it
    gives it, with another ("$412 in 2021 and $468 in 2024", asked for 2023)."""
    years = asked_years(question)
    if len(years) != 1:
        return False
    found = occurrences(fig, sentence)
    for m in found:
        after = _YEAR_AFTER.search(sentence[m.end() :])
        before = _YEAR_BEFORE.search(sentence[: m.start()])
        own = after.group(1) if after else before.group(1) if before else None
        if own is None or own in years[0]:
            return False
    return bool(found)


# "cheaper to run than a diesel bus": what a figure is compared with is not its subject
_THAN = re.compile(r"\b(?:than|compared (?:with|to))\b[^,.;:]{0,40}", re.I)
_COMPARES = re.compile(r"\b(?:than|more|less|fewer|compared?|difference|against)\b", re.I)


def compares(question: str) -> bool:
    """The question itself compares ("how much more than …", "by how much …")."""
    return bool(_COMPARES.search(question) or asks_difference(question))


def uncompared(text: str) -> str:
    """``text`` without what it compares its subject with ("than a diesel bus")."""
    return _THAN.sub(" ", text)


_HOW_MANY = re.compile(
    r"\bhow many\s+((?:[\w'’-]+\s+){0,3}?)(?:did|does|do|were|was|are|is|have|has|had|will|"
    r"would|can|could|went|came|in|of|at|on|for)\b",
    re.I,
)
_NOT_COUNTED = STOPWORDS | {"thousand", "million", "billion", "trillion"}
_ABBREVIATION = re.compile(r"[kmgt]wh|[kmg]w|kg|km|cm|mm|ha|mwp|ml|[kmgt]b")
# words that count people: "people" and "person" may be counted by any of them
_PEOPLE_WORDS = ("people", "person", "resident", "inhabitant", "staff", "employee", "worker")
_PEOPLE = frozenset(map(stem, (*_PEOPLE_WORDS, "member", "customer")))
_ANYONE = frozenset(map(stem, _PEOPLE_WORDS[:2]))


def count_of_other(question: str, figs: list[FigureUse]) -> str:
    """A one-part "how many" question counts one thing ("docking points") and the answer's
    first figure counts another ("2,650 bikes"): the sources' count of something else."""
    m = _HOW_MANY.search(question)
    if not m or not figs or len(question_parts(question)) > 1:
        return ""
    first = figs[0]
    unit = first.unit
    # a plain word (not "GWh", "km"), not a scale ("7 billion"), not a stop word ("in")
    if first.percent or first.currency or not unit or len(unit) < 3 or unit in _NOT_COUNTED:
        return ""
    if _ABBREVIATION.fullmatch(unit):
        return ""
    counted = {stem(w) for w in re.findall(r"[\w'’-]+", m.group(1))} - {""}
    if any(u.unit in counted for u in figs):  # "240 passengers and 36 cars": cars are counted
        return ""
    people = counted & _PEOPLE and (unit in _PEOPLE or counted & _ANYONE)  # "people": contributors
    if not counted or unit in subject_words(question) or people:
        return ""
    return f"the question counts {m.group(1).strip()}; the answer counts {unit}"
