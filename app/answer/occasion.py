"""The year a question asks about must be the year of the sentence that answers it.

Among the traps that pass every other check are figures the sources give for another
year: this year's harvest reported as the harvest of a year the sources never give, a
count for 2024 given as the count for 2022. The figure is real, its unit is right and the
sentence is about the question's subject; only the year differs. So, once a sentence has
been found that states the answer (:mod:`app.answer.verify`), every year the question
names ("in 2022", "in 2023-24") must occur in that sentence's *setting*: the sentence,
the one before it, its section heading, or its document's label with the date line
(which says what year "this year" is).

The same test for the event a date or amount question names by its verb ("On what date
did the board *approve* …") was tried and dropped: the sources name the same event with
other verbs too often ("publish"/"released", "begin"/"started", "moved", "gave", "voted"),
docs/EVALUATION.md. Two looser ones, for dates only, live in
:func:`app.answer.verify._date_unstated`: any word of the question's when-part other than
names ("sign", "contract") will do, and a sentence that names events by their verbs must
name the one asked among them (:func:`other_event`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

YEAR = re.compile(r"(?<![\d,.])(1[89]\d\d|20\d\d)(?!\d|,\d)")
# "2023-24", "2023/24", "2023–2024": a season or financial year names both years
_SPAN = re.compile(r"(?<![\d,.])((?:1[89]|20)\d\d)\s?[-–/]\s?(\d\d(?:\d\d)?)(?!\d|,\d)")


@dataclass(frozen=True)
class Setting:
    """Where a supporting sentence stands: the sentence, the one before it in its passage
    (or ""), its section heading and its document's label (title, date line, byline)."""

    sentence: str
    before: str
    heading: str
    label: str

    def years(self) -> set[str]:
        text = f"{self.label} {self.heading} {self.before} {self.sentence}"
        found = set(YEAR.findall(text))
        for start, end in _SPAN.findall(text):
            found.add(start[: 4 - len(end)] + end)
        return found


def asked_years(question: str) -> list[frozenset[str]]:
    """The years the question names, in order, each as the years that fit it: "2023-24",
    a season or financial year, is fitted by a sentence set in either year ("the
    financial year ended on 31 March 2024")."""
    asked: dict[str, frozenset[str]] = {}
    for start, end in _SPAN.findall(question):
        asked[start] = frozenset({start, start[: 4 - len(end)] + end})
    for year in YEAR.findall(question):
        asked.setdefault(year, frozenset({year}))
    return list(asked.values())


def year_missing(question: str, settings: Sequence[Setting]) -> str | None:
    """The first year the question names that no supporting sentence's setting gives,
    or None. No supporting sentence, nothing to judge: None."""
    if not settings:
        return None
    for fits in asked_years(question):
        if not any(fits & s.years() for s in settings):
            return min(fits)
    return None


_MONTHS = frozenset(
    "january february march april may june july august september october november december".split()  # noqa: SIM905
)


def date_units(units: Sequence[str], text: str = "") -> set[str]:
    """The units that make a date: a month, a day of it and a year (a figure that may be a
    day counts as one beside a month or a year: "14 February 2022" is read as 14 and 2022).
    Given the answer's ``text``, a day must be written next to its month ("14 November",
    "November 14"): the 15 of "68 turbines of 15 megawatts" is no day of any month."""
    months = {u for u in units if u in _MONTHS}
    years = {u for u in units if YEAR.fullmatch(u)}
    days = {u for u in units if (months or years) and u.isdigit() and 1 <= int(u) <= 31}
    if text and months:
        month = "|".join(sorted(months))
        lowered = text.lower()
        days = {
            d
            for d in days
            if re.search(
                rf"(?<![\d.,]){d}(?:st|nd|rd|th)?\s+(?:of\s+)?(?:{month})\b"
                rf"|\b(?:{month})\s+{d}(?![\d.,]*\d)",
                lowered,
            )
        }
    return months | years | days


# verbs that name an event, each group the verbs a text may name the same event by: base
# forms, with the irregular ones written out ("begin began begun"); the regular ones are
# made by :func:`_inflected`
_EVENT_GROUPS = (
    "start begin began begun launch open commence enter",
    "found establish create form born incorporate",
    "announce unveil reveal present introduce launch publish release",
    "sign agree conclude",
    "approve authorise authorize endorse pass grant",
    "buy bought acquire purchase",
    "sell sold",
    "join",
    "leave left quit exit resign depart",
    "appoint hire elect become became",
    "deliver receive",
    "close shut",
    "complete finish end",
    "win won",
    "lose lost",
    "order",
    "challenge appeal sue contest",
    "retire",
    "merge",
    "build built construct",
    "file lodge submit",
)


def _inflected(verb: str) -> set[str]:
    """A verb with its regular forms: "open", "opens", "opened", "opening"; "close",
    "closes", "closed", "closing"; "shut", "shutting"."""
    stem_ = verb[:-1] if verb.endswith("e") else verb
    doubled = verb + verb[-1] if re.search(r"[^aeiou][aeiou][bdgmnprt]$", verb) else verb
    return {
        verb,
        verb + ("es" if verb.endswith(("s", "sh", "ch", "x")) else "s"),
        stem_ + "ed",
        stem_ + "ing",
        doubled + "ed",
        doubled + "ing",
    }


_SAME_EVENT = tuple(
    frozenset().union(*(_inflected(v) for v in group.split())) for group in _EVENT_GROUPS
)
_EVENT_WORDS = frozenset().union(*_SAME_EVENT)
_IRREGULAR = frozenset("began begun bought sold left won lost built became born".split())  # noqa: SIM905
# the form a question's verb takes after its auxiliary: "did … approve", "was … opened"
_AFTER_DO = frozenset(" ".join(_EVENT_GROUPS).split()) - _IRREGULAR - {"born"}
_AFTER_BE = frozenset(w for w in _EVENT_WORDS if w.endswith("ed")) | _IRREGULAR - {"began"}
_AUXILIARY = re.compile(r"\b(?:(did|does|do|will|would)|was|were|is|are|has|have|had)\b", re.I)


def event_said(part: str) -> frozenset[str] | None:
    """The verb that names the event a question's part asks about ("On what date did the
    board *approve* the timetable?", "When was the plant *opened*?") with the verbs a text
    may name that event by, as lower-case words; None when the part has no such verb. The
    verb has the form its auxiliary asks for: in "did building work start", "building"
    is no verb."""
    aux = _AUXILIARY.search(part)
    if aux is None:
        return None
    forms = _AFTER_DO if aux.group(1) else _AFTER_BE
    for word in re.findall(r"[A-Za-z]+", part[aux.end() :]):
        if word in forms:
            return frozenset().union(*(g for g in _SAME_EVENT if word in g))
    return None


def other_event(part: str, sentence: str) -> bool:
    """The sentence names events by their verbs, and none of them is the one the question's
    part asks about (:func:`event_said`): "On 14 November the council announced the
    winner" dates no joining. A sentence that names no event by a verb may date any
    ("On 9 March voted the members …" dates their approval)."""
    said = event_said(part)
    words = {w.lower() for w in re.findall(r"[A-Za-z]+", sentence)}
    return said is not None and bool(words & _EVENT_WORDS) and not words & said
