"""How the claim check reads a sentence of the sources: the passage it comes from, its
clauses, the sentences before it that it points back to, and its paragraph."""

from __future__ import annotations

import re
from dataclasses import dataclass

from app.answer.claims import names_in
from app.answer.naming import names_nothing
from app.text.sentences import clauses, paragraph, unwrapped_sentences
from app.text.tables import Headers

# a sentence that opens with a pronoun takes its subject from the sentence before; so does
# one that names nothing ("Turning the hall into a library cost £2.4 million.")
_REFERS_BACK = re.compile(
    r"(?:it|its|they|their|this|these|that|those|he|she|his|her|there|the same)\b", re.I
)
# a pronoun after an opening phrase: "In July 2019 it raised …", "By 2020 its revenue …"
# or a thing the text named before, called by its kind: "The company raised …"
_FRONTED = re.compile(
    r"(?:(?:in|on|by|at|from|since|after|before|during|until|then|later|today|over|through"
    r"|throughout|within|across|last|each|every)\b[^,.;]{0,40}?"
    r",?\s+(?:it|its|they|their|he|she|his|her)\b"
    r"|the (?:company|firm|group|business|start-up|startup|network|bank|fund|maker|lab|project"
    r"|city|council|operator|insurer|carrier|developer|university|charity|club|school)\b)",
    re.I,
)


# words of a post written with capitals ("The Minister of Agriculture, Dănuț Oprescu, …"):
# a sentence that opens with one opens with no name of its own
_TITLES = frozenset(
    [
        "minister",
        "ministry",
        "president",
        "chair",
        "chairman",
        "chairwoman",
        "director",
        "mayor",
        "governor",
        "secretary",
        "chief",
        "executive",
        "head",
        "officer",
        "manager",
        "commissioner",
        "deputy",
        "agriculture",
        "finance",
        "health",
        "transport",
        "interior",
        "justice",
        "education",
    ]
)


@dataclass(frozen=True)
class Sentence:
    source: int  # the [n] of the passage it comes from
    start: int  # character offsets into the passage text
    end: int
    text: str


@dataclass(frozen=True)
class Passage:
    """A source as the model saw it: its number, its document's title, the heading of its
    section ("" when none), its text and the table headers the prompt put back in it."""

    number: int
    title: str
    heading: str
    text: str
    tables: Headers = ()  # header lines of tables whose rows it holds without them
    before: tuple[str, ...] = ()  # its document's sentences just before it (up to three)
    earlier: str = ""  # its document's text before it: what "the trust" may refer back to

    def up_to(self, sentence: Sentence) -> str:
        """Its document's text before ``sentence``, one of its own."""
        return self.earlier + self.text[: sentence.start]


def split_sentences(number: int, text: str) -> list[Sentence]:
    return [Sentence(number, s.start, s.end, s.text) for s in unwrapped_sentences(text)]


def clause_sentences(number: int, text: str) -> list[Sentence]:
    """What the claim check reads as sentences: each cut at its semicolons (:func:`clauses`)."""
    return [
        Sentence(number, c.start, c.end, c.text)
        for s in unwrapped_sentences(text)
        for c in clauses(s)
    ]


def paragraph_of(passage: Passage, sentence: Sentence) -> str:
    """The paragraph that holds the sentence, with the document's sentences before the
    passage when the passage opens inside it; "" when the sentence opens with a name of
    its own ("Vellum Cells had 9,000 customers" is about Vellum Cells, whatever its
    paragraph names)."""
    opening = " ".join(sentence.text.split()[:4])
    if names_in(opening, passage.text) - _TITLES:  # "The Minister of Agriculture" is a post
        return ""
    own, opens = paragraph(passage.text, sentence.start, sentence.end)
    return " ".join([*passage.before, own]) if opens else own


def context_of(
    sents: list[Sentence], i: int, before: tuple[str, ...], text: str, lenient: bool
) -> str:
    """Sentence ``i``, read with the one before it when it opens with a pronoun or names
    nothing. ``lenient``: also when a pronoun follows an opening phrase ("In July 2019 it
    raised …") or it calls a thing by its kind ("The company …"), back through up to three
    such sentences ("It … It … Its …"), and on into ``before``, the document's sentences
    before the passage, when the passage opens with such a sentence. (Read strictly too,
    the document's sentences let a trap of the first held-out set through.)"""
    before = before if lenient else ()  # strict: the chunk's own sentences only
    texts = [*before, *(s.text for s in sents)]
    j = len(before) + i
    parts = [texts[j]]
    for _ in range(3 if lenient else 1):
        here, k = texts[j], j - len(before)
        nothing = (
            # a clause after a semicolon opens mid-sentence: its capital is a name's
            names_nothing(here, sents[k].start, sents[k].end, text)
            and not text[: sents[k].start].rstrip().endswith(";")
            if k >= 0
            else not names_in(here)
        )
        if j == 0 or not (
            _REFERS_BACK.match(here) or nothing or (lenient and _FRONTED.match(here))
        ):
            break
        j -= 1
        parts.insert(0, texts[j])
    return " ".join(parts)
