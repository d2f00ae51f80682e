"""Does a sentence name what the question asks about? The names a question asks about,
the one that acts in it, the nouns and short names a text calls them by once named.
Used by :mod:`app.answer.verify`."""

from __future__ import annotations

import re

from app.answer.claims import name_phrases, names_in
from app.text.words import STOPWORDS, UPPER, initials, stem, whole_words

_AGENT = re.compile(
    r"\b(?:(?:did|does|do|will|would|has|have|had|can|could)\s+(?:the\s+)?|(?:is|was|were|are)\s+)"
    rf"({UPPER}[\w'’-]*(?:\s+(?:of\s+)?{UPPER}[\w'’-]*)*)"
)


def agent_of(question: str) -> frozenset[str] | None:
    """The name that acts in the question ("How much did the University of Caddisford
    invest …", "When did Kellan Foods start …"): a sentence about another one's deed does
    not answer it. None when a name does not follow the verb ("Which Meta executive said …")
    or is only a possessive ("What are Meta's models called?")."""
    m = _AGENT.search(question)
    if m is None or re.search(r"['’]s?$", m.group(1)):
        return None
    return frozenset(w for w in whole_words(m.group(1).lower()) if w != "of")


# words after which a name is acted on, not acting ("a direct message to Vellum", "cheaper
# than Ostrel", "a claim against Anselby"); "by" is left out: a passive names its agent so
_ACTED_ON = re.compile(r"\b(?:to|than|against|over|for)\s+(?:the\s+)?$")


_REPORTS = re.compile(
    r"\s+(?:say|claim|argue|tell|think|believe|estimate|expect|report|announce|insist)\b"
)


def acting(question: str) -> frozenset[str] | None:
    """The name that acts in the question (:func:`agent_of`) when it does a deed: not one
    asked with is/was ("When was Corran privatised?"), nor one that only reports the fact
    ("What royalty did Anselby say the cooperative owed it?": the fact may be done to it)."""
    m = _AGENT.search(question)
    if (
        m is None
        or re.match(r"(?:is|was|were|are)\b", m.group(0))
        or _REPORTS.match(question, m.end())
    ):
        return None
    return agent_of(question)


# "sold control to Baylock Infrastructure, a fund based in Calderwick, which today owns …"
_APPOSITIVE = r"(?:(?:a|an|the)\s[^,.;]{1,60},\s+)?"


def only_acted_on(agent: frozenset[str] | None, text: str) -> bool:
    """The name that acts in the question (:func:`acting`) is in ``text`` only where
    something is done to it ("it cut the price …, a direct message to Vellum" does not say
    what Vellum charges). False when ``text`` does not name it at all (its label may). A
    mention that opens a clause about it ("belonged to Corran, which was …", "sold to
    Baylock, a fund in Calderwick, which owns …") is no deed done to it."""
    if agent is None:
        return False
    lowered = text.lower()
    words = "|".join(map(re.escape, agent))
    starts = [
        m.start()
        for w in agent
        for m in re.finditer(rf"(?<![\w-]){re.escape(w)}(?![\w-])", lowered)
        if not re.match(
            rf"(?:\s+(?:{words}))*\s*,\s+{_APPOSITIVE}(?:which|who|whose)\b", lowered[m.end() :]
        )
        and not re.search(rf"(?:^|\s)(?:{words}|of)\s+$", lowered[: m.start()])
    ]
    return bool(starts) and all(_ACTED_ON.search(lowered[:at]) for at in starts)


def heads_of(question: str, asked_names: list[frozenset[str]]) -> list[tuple[frozenset[str], str]]:
    """Each name the question asks about with its last word as the question writes it,
    the noun a text uses for it once named ("Scarrowby Academy": "academy")."""
    order = {w: i for i, w in enumerate(re.findall(r"[\w-]+", question.lower()))}
    return [(n, max(n, key=lambda w: order.get(w, -1))) for n in asked_names]


def last_named(word: str, text: str) -> frozenset[str] | None:
    """The words of the last name in ``text`` that holds ``word`` ("trust": the North
    Harrow Health Trust, the Wendholm Royal Infirmary trust, the Salt Cooperative of
    Salvarena); None when there is none. "The trust" alone names nothing: it refers back."""
    found = None
    for m in re.finditer(
        rf"((?:{UPPER}[\w'’-]*\s+(?:(?:of|and|for)\s+)?)*)(?i:{re.escape(word)})\b"
        rf"((?:\s+of(?:\s+the)?(?:\s+{UPPER}[\w'’-]*)+)?)",
        text,
    ):
        words = whole_words(f"{m.group(1)} {m.group(2)}".lower()) - STOPWORDS
        if words:
            found = words | {word}
    return None if found is None else frozenset(found)


def short_forms(
    question: str, asked_names: list[frozenset[str]], known: str
) -> list[tuple[frozenset[str], str]]:
    """Each name of several words the question asks about, with its first or last word,
    when the sources may call it by that word alone ("Corran" for "Corran Telecom",
    "Sandqvist" for "Benedikt Sandqvist"): the sources write that word on its own as a
    name, and no other name of theirs holds it ("Sable" is not short for "Sable Silicon"
    where the sources also name the "Sable S7")."""
    order = {w: i for i, w in reversed(list(enumerate(re.findall(r"[\w'’-]+", question.lower()))))}
    theirs = name_phrases(known)
    out = []
    for name in asked_names:
        if len(name) < 2:
            continue
        ends = sorted(name, key=lambda w: order.get(w, len(order)))
        for word in {ends[0], ends[-1]}:
            others = [p for p in theirs if word in p and not p <= name]
            if not others and frozenset({word}) in theirs:
                out.append((name, word))
    return out


def named(
    read: set[str],
    text: str,
    earlier: str,
    heads: list[tuple[frozenset[str], str]],
    agent: frozenset[str] | None,
) -> bool:
    """Does the sentence, read with its label and context (``read``), name what the
    question asks about: one of its names, and the one that acts in it (``agent``) if
    any? A name also counts when the sentence calls it by its last word ("The academy
    was designed by …") and the last name with that word in ``earlier``, the document
    before the sentence, is the one asked about: "the trust" after "the North Harrow
    Health Trust" is that trust, not after "the Castlebeck trust"."""
    present = {n for n, _ in heads if n <= read}
    lowered = text.lower()
    for n, h in heads:
        at = re.search(rf"\bthe {re.escape(h)}\b", lowered)
        if at and n <= (last_named(h, earlier + text[: at.start()]) or set()):
            present.add(n)
    if heads and not present:
        return False
    return agent is None or agent <= read or agent in present


def names_nothing(sentence: str, start: int, end: int, text: str) -> bool:
    """The sentence (``text[start:end]``) names nothing: its opening word counts as a
    name only when the rest of the passage writes it capitalised too."""
    return not names_in(sentence, text[:start] + text[end:])


def read_words(
    label_words: set[str],
    context: str,
    acronyms: set[str],
    shorts: list[tuple[frozenset[str], str]],
    defined: list[tuple[frozenset[str], str]],
) -> set[str]:
    """The words a sentence is read with: its label's and its context's, the names an
    acronym stands for ("AGM": the annual general meeting), a name its short form stands
    for ("Corran"), and one its capitalised last word stands for ("the Fund")."""
    read = label_words | whole_words(context.lower())
    if acronyms:
        read |= initials(context) & acronyms
    read |= {w for n, f in shorts if f in read for w in n}
    return read | {w for n, h in defined if f"the {h.capitalize()}" in context for w in n}


_ORDINAL_OF = re.compile(
    r"\b(first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth)"
    r"((?:\s+[a-z][\w-]*){1,2})",
    re.I,
)


def _series(text: str) -> list[tuple[str, set[str]]]:
    """Each ordinal with the stems of the (up to two) words after it: ("first",
    {"corvalidin", "tender"}) for "the first corvalidine tender"."""
    return [
        (o.lower(), {stem(w) for w in ws.split()} - STOPWORDS)
        for o, ws in _ORDINAL_OF.findall(text)
    ]


# a question about who holds a post now, and a sentence about an earlier holder of one
_NOW = re.compile(r"\b(?:today|now|currently|current|at present|these days)\b", re.I)
_EARLIER_HOLDER = re.compile(
    r"\b(?:first|former|founding|original|previous|then)\s+(?:[a-z]+\s+){0,2}?"
    r"(?:chief executive|ceo|chair(?:man|woman)?|director|head|president|mayor|manager|boss)",
    re.I,
)


def earlier_holder(question: str, sentence: str) -> bool:
    """Asked who holds a post now ("Who heads Bükkfa today?"), the sentence is about its
    first or former holder ("The first chief executive of Bükkfa was …"). Read on the
    sentence alone: the one after it ("Her successor is …") names the holder now."""
    return bool(_NOW.search(question) and _EARLIER_HOLDER.search(sentence))


def other_of_series(question: str, context: str, sentence: str = "") -> bool:
    """The question asks about one of a series by its ordinal ("the first tender") and the
    sentence, read with its context, names another of the series ("In the third tender")
    and not the one asked: what it says is of the other one. So is a post's earlier
    holder, asked who holds it now (:func:`earlier_holder`, on ``sentence`` alone)."""
    if earlier_holder(question, sentence):
        return True
    said = _series(context)
    for o, kind in _series(question):
        same = [so for so, sk in said if sk & kind]
        if same and o not in same:
            return True
    return False
