"""Who holds a share: asked what share of one party another holds, a sentence that gives
the figure as the asked-about party's own holding does not answer.

"What share of Energia Lusvana does Tidewell Energy own?" is not answered by "a
consortium in which Tidewell Energy holds 65% and Energia Lusvana holds the other 35%":
the 35% is Energia Lusvana's, held in the consortium. Nor is "What share of Harland Timber
does Bükkfa own?" answered by "70% of it owns Harland Timber", a sentence whose figure
comes before its verb and whose holder comes after it. The holder of a figure is the party
named last before the holding verb it follows, or, when the figure is written just before
the verb, the party named first after it. Used by :mod:`app.answer.measure`.
"""

from __future__ import annotations

import re

from app.answer.arithmetic import occurrences
from app.answer.claims import FigureUse
from app.text.words import UPPER, first_at, last_at

_ASKS_HOLDING = re.compile(
    r"\b(?:share|stake|percentage|proportion|per ?cent|part)\s+(?:of\s+(?P<owned>[^?]+?)\s+)?"
    r"(?:does|did|do)\s+(?P<owner>[^?]+?)\s+(?:own|hold|control)\b"
    r"(?:\s+in\s+(?P<owned_in>[^?]+?))?\s*(?:\?|$|,|\s+(?:today|now|in\s+\d{4}))"
)
_HOLDS = re.compile(r"\b(?:holds?|held|owns?|owned|controls?|controlled)\b")
_PASSIVE = re.compile(r"\b(?:is|was|are|were|be|been)\s+(?:\w+\s+)?$")
# the figure written just before its verb: "70% of it owns …", "The remaining 20% holds …"
_FIGURE_FIRST = re.compile(r"\d\s*(?:%|per ?cent)(?:\s+of\s+[\w'’-]+(?:\s+[\w'’-]+)?)?\s*$")
_NEAR = 60  # how far before a verb its holder, or before a figure its verb, is looked for


def _names(text: str) -> set[str]:
    """The capitalised words of a party as the question writes it."""
    return set(re.findall(rf"{UPPER}[\w'’-]+", text)) - {"The"}


def parties(question: str) -> tuple[set[str], set[str]] | None:
    """Who holds and who is held in "What share of B does A own?" or "How big a stake
    does A hold in B?", as capitalised words; None when the question asks no such thing
    or does not name both."""
    m = _ASKS_HOLDING.search(question)
    if m is None:
        return None
    owner, owned = _names(m["owner"]), _names(m["owned"] or m["owned_in"] or "")
    return (owner, owned) if owner and owned and not owner & owned else None


def held_by_other(fig: FigureUse, sentence: str, question: str) -> bool:
    """The sentence gives the answer's share as held by the party the question asks a share
    *of*, not by the one it asks about as holder."""
    asked = parties(question)
    if asked is None or not fig.percent:
        return False
    owner, owned = asked
    for at in occurrences(fig, sentence):
        verbs = [v for v in _HOLDS.finditer(sentence) if abs(v.start() - at.start()) <= _NEAR]
        before = [v for v in verbs if v.end() <= at.start()]
        after = [v for v in verbs if v.start() >= at.end()]
        if after and _FIGURE_FIRST.search(sentence[: after[0].start()]):
            holder = sentence[after[0].end() : after[0].end() + _NEAR]  # "70% of it owns X"
            if first_at(owned, holder) < first_at(owner, holder):
                return True
        elif before and not _PASSIVE.search(sentence[: before[-1].start()]):
            ahead = sentence[max(0, before[-1].start() - _NEAR) : before[-1].start()]
            if last_at(owned, ahead) > last_at(owner, ahead):  # "… B, the state company, holds 35%"
                return True
    return False
