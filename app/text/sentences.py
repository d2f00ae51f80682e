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

from app.text.tables import PROSE_GAP

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


# A PDF's text keeps the page's line wraps, and each line ends a prose sentence (a table
# row must stand alone). A long line that stops mid-sentence, on a word or a comma, runs on
# into the next; a table row (cells set apart by bars, tabs or spaces, or ending on a
# figure or a figure's unit, "540 t") and a heading (short) stand alone.
_WORD_END = re.compile(r"[^\W\d_][\w’'-]*,?")
_WRAP_MIN = 50
_TABLE_ROW = re.compile(r"[|\t]|\S {2,}\S")  # cells: bars, tabs or aligned columns


def _runs_on(line: str) -> bool:
    words = line.split()
    return (
        len(line) >= _WRAP_MIN
        and not (_TABLE_ROW.search(line) and not PROSE_GAP.search(line))
        and len(words) >= 2
        and _WORD_END.fullmatch(words[-1]) is not None
        and not any(c.isdigit() for c in words[-2])
    )


def unwrapped_sentences(text: str) -> list[Sentence]:
    """:func:`prose_sentences`, with a sentence wrapped over lines (as in a PDF's text)
    kept whole: what the answer checks read and quote. Whether a line runs on is judged
    on the whole line, which may hold the end of the sentence before as well."""
    out: list[Sentence] = []
    for s in prose_sentences(text):
        prev = out[-1] if out else None
        if (
            prev is not None
            and text[prev.end : s.start] == "\n"
            and _runs_on(text[text.rfind("\n", 0, prev.end) + 1 : prev.end])
        ):
            out[-1] = Sentence(prev.start, s.end, text[prev.start : s.end])
        else:
            out.append(s)
    return out


def first_sentence(text: str) -> str:
    spans = sentence_spans(text)
    return spans[0].text if spans else ""


_SEMICOLON = re.compile(r";\s+")
_POINTS_BACK = re.compile(r"\b(?:he|she|him|her|his|it|its|they|them|their)\b", re.I)


def clauses(sentence: Sentence) -> list[Sentence]:
    """The sentence cut at each semicolon after which the clause stands alone: in "…,
    then Farmaval from Pessel; and Brenner-Hallam itself, which offered Corvel for 380
    osmarks" the figure is Brenner-Hallam's, not Farmaval's. A clause that points back
    with a pronoun ("…; the board replaced him with …") stays with the one before."""
    out, start = [], 0
    text = sentence.text
    cuts = [m for m in _SEMICOLON.finditer(text) if _stands_alone(text[m.end() :].split(";")[0])]
    for m in [*cuts, None]:
        end = m.start() if m else len(text)
        if text[start:end].strip():
            out.append(Sentence(sentence.start + start, sentence.start + end, text[start:end]))
        start = m.end() if m else start
    return out


def _stands_alone(clause: str) -> bool:
    """A clause after a semicolon has a subject of its own: it opens with a name ("Farmaval
    offered its own generic …"), or it has no pronoun that points back (as "the board
    replaced him …" has)."""
    return clause[:1].isupper() or not _POINTS_BACK.search(clause)


def paragraph(text: str, start: int, end: int) -> tuple[str, bool]:
    """The paragraph (between blank lines) of ``text`` that holds ``text[start:end]``, and
    whether it may have begun before ``text`` (no blank line before it)."""
    first = text.rfind("\n\n", 0, start)
    last = text.find("\n\n", end)
    return text[first + 2 if first >= 0 else 0 : last if last >= 0 else len(text)], first < 0
