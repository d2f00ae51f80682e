"""The one sentence splitter: sentences with their character spans.

``sentence_spans(text)`` returns each sentence with ``[start, end)`` offsets into
``text`` (so ``text[s.start:s.end] == s.text``): a sentence ends after ``.``, ``!`` or
``?`` followed by whitespace. The prompt trims passages at these ends, the answer checks
read an answer's first sentence, and citation repair works sentence by sentence; answer
verification can cite these spans.

``PROSE_SENTENCE_END`` is the stricter boundary chunking uses over whole documents (a
closing quote or bracket may follow the stop, the next sentence must start like one, and
a line break always ends a sentence).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
PROSE_SENTENCE_END = re.compile(r"(?<=[.!?…])[\"'”’)\]]*\s+(?=[\"'“‘(\[]?[A-Z0-9])|\n")


@dataclass(frozen=True)
class Sentence:
    start: int
    end: int
    text: str


def sentence_spans(text: str) -> list[Sentence]:
    """The non-empty sentences of ``text``, in order, with their spans."""
    out = []
    pos = 0
    for m in SENTENCE_END.finditer(text):
        if m.start() > pos:
            out.append(Sentence(pos, m.start(), text[pos : m.start()]))
        pos = m.end()
    if pos < len(text):
        out.append(Sentence(pos, len(text), text[pos:]))
    return out


_ABBREVIATION = re.compile(
    r"(?:\b(?:Mr|Mrs|Ms|Dr|Prof|St|No|vs|etc|Inc|Ltd|Co|Jr|Sr|e\.g|i\.e)|\b[A-Z])\.[\"'”’)\]]*$"
)


def prose_sentences(text: str) -> list[Sentence]:
    """The sentences of document text, whitespace trimmed: ``PROSE_SENTENCE_END``
    boundaries (so each line, such as a table row, stands alone), except after an
    abbreviation such as "Dr." or an initial ("J. Smith")."""
    bounds = []
    pos = 0
    for m in PROSE_SENTENCE_END.finditer(text):
        if "\n" not in m.group(0) and _ABBREVIATION.search(text[pos : m.start()]):
            continue
        bounds.append((pos, m.start()))
        pos = m.end()
    bounds.append((pos, len(text)))
    out = []
    for s, e in bounds:
        seg = text[s:e]
        s, e = s + len(seg) - len(seg.lstrip()), s + len(seg.rstrip())
        if e > s:
            out.append(Sentence(s, e, text[s:e]))
    return out


def first_sentence(text: str) -> str:
    spans = sentence_spans(text)
    return spans[0].text if spans else ""
