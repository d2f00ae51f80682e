"""The sentences of a source, and what each one is about when it does not say.

Writers name a thing once and then call it "she", "it" or "the base": the sentence that
states an answer often names nothing itself ("She can take 36 cars."). To tell what such a
sentence is about, it is read with the sentences its subject is named in: back through
the sentences that refer back, at most :data:`REFER_BACK` of them, and into the document's
text just before the passage when a chunk starts mid-story (``Passage.before``).

- a pronoun ("It has …", "They …") or a sentence that names nothing refers to the
  sentence before it;
- a common noun ("The base will employ …", "The new ship was built …") refers to the
  nearest sentence before that says that noun ("… a new operations base in Scarrowby").

The words about the question are still counted only in the sentence and, when it refers
back, the one before (:func:`contexts` returns both readings): a name may be given far
back, but what is said about it must be said here.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from app.answer.claims import names_in
from app.text.sentences import unwrapped_sentences
from app.text.words import content_stems, stem

# a sentence that opens with a pronoun takes its subject from the sentence before; so does
# one that names nothing ("Turning the hall into a library cost £2.4 million.")
REFERS_BACK = re.compile(
    r"(?:it|its|they|their|this|these|that|those|he|she|his|her|there|the same)\b", re.I
)
# "The building is …", "The new ship was built …": a thing named before, by a common noun
_DEFINITE = re.compile(
    r"[Tt]he ((?:[a-z][\w-]* ?){1,3}?)"
    r"(?:\b(?:is|are|was|were|will|has|have|had|can|could|would)\b|,)"
)
REFER_BACK = 3  # a sentence's subject is looked for at most this many sentences back


@dataclass(frozen=True)
class Sentence:
    source: int  # the [n] of the passage it comes from
    start: int  # character offsets into the passage text
    end: int
    text: str


@dataclass(frozen=True)
class Passage:
    """A source as the model saw it: its number, its document's title, the heading of its
    section ("" when none) and its text; and the document's text just before it, read
    only to find what a sentence that opens "She …" or "The building …" refers to."""

    number: int
    title: str
    heading: str
    text: str
    before: str = ""


def split_sentences(number: int, text: str) -> list[Sentence]:
    return [Sentence(number, s.start, s.end, s.text) for s in unwrapped_sentences(text)]


def contexts(passage: Passage, sents: Sequence[Sentence]) -> list[tuple[str, str]]:
    """For each sentence of the passage, two readings: with every sentence back to where
    its subject is named (for the names it is about), and with the sentence before when it
    refers back (for the words it says about them)."""
    earlier = split_sentences(passage.number, passage.before)[-REFER_BACK:]
    chain = [x.text for x in earlier + list(sents)]
    refers = [_refers_back(x, passage.before) for x in earlier]
    refers += [_refers_back(x, passage.text) for x in sents]
    out = []
    for i, s in enumerate(sents):
        at = i + len(earlier)
        near = s.text
        if i > 0 and (REFERS_BACK.match(s.text) or names_nothing(s, passage.text)):
            near = f"{sents[i - 1].text} {near}"
        out.append((" ".join(chain[_antecedent(chain, refers, at) : at + 1]), near))
    return out


def _antecedent(sents: Sequence[str], refers: Sequence[bool | str], i: int) -> int:
    """Where sentence ``i``'s subject is named: the sentence itself or, while the sentences
    read back from it refer back (``refers``), up to :data:`REFER_BACK` sentences before
    it. A pronoun or a sentence that names nothing refers to the sentence before
    (``True``); a common noun (given as its stem) to the nearest sentence before that
    says that noun."""
    j = i
    while j > 0 and i - j < REFER_BACK and refers[j]:
        noun = refers[j]
        if noun is True:
            j -= 1
            continue
        back = range(j - 1, max(-1, i - REFER_BACK - 1), -1)
        found = next((k for k in back if noun in content_stems(sents[k])), None)
        if found is None:
            break
        j = found
    return j


def _refers_back(sentence: Sentence, text: str) -> bool | str:
    """Does the sentence refer back: ``True`` for a pronoun or no name at all, the stem of
    its noun for "The building is …", ``False`` when it names its own subject."""
    definite = _DEFINITE.match(sentence.text)
    if definite:
        return stem(definite.group(1).split()[-1])
    return bool(REFERS_BACK.match(sentence.text) or names_nothing(sentence, text))


def names_nothing(sentence: Sentence, text: str) -> bool:
    """The sentence names nothing: its opening word counts as a name only when the rest
    of the passage writes it capitalised too."""
    return not names_in(sentence.text, text[: sentence.start] + text[sentence.end :])
