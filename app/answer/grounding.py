"""Check an answer's figures against the sources it was given, and point its citations at
the passages that state them.

Small models asked about a figure the articles lack tend to invent one and cite a source
anyway, and when several sources are on the same topic they often cite a neighbour of the
passage that holds the figure. Figures are the checkable part of an answer: a figure that
occurs in no source is the tell of an invented answer, and the passage that contains the
figure is the one to cite.

A *figure* is a number with its scale and any letters glued in front: ``4,000`` and
``4k`` → 4000, ``70B`` and ``70 billion`` → 7e10, ``2 trillion`` → 2e12 (so it is not the
"2" of "Llama 2"), ``H100`` → 100 with prefix ``h``. Letters in front make an identifier
(``H100``, ``A100``) that must match exactly.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from app.text.sentences import first_sentence, sentence_spans
from app.text.words import UPPER

_FIGURE = re.compile(
    r"(?<![\w.,])([A-Za-z]*)(\d+(?:[.,]\d+)*)([A-Za-z%]*)"
    r"(?:[\s-]+(thousand|million|billion|trillion)\b)?",
    re.I,
)
_SCALE = {
    "k": 1e3,
    "thousand": 1e3,
    "m": 1e6,
    "million": 1e6,
    "b": 1e9,
    "bn": 1e9,
    "billion": 1e9,
    "t": 1e12,
    "trillion": 1e12,
}
_MARKERS = re.compile(r"(?:\s?\[\d+\])+")
_MARKER_NUM = re.compile(r"\[(\d+)\]")


@dataclass(frozen=True)
class Figure:
    prefix: str  # letters glued in front ("h" in H100), lower case
    number: str  # digits with thousands separators removed

    def found_in(self, available: set[Figure]) -> bool:
        if self.prefix:
            return self in available
        return any(f.number == self.number for f in available)


def figures(text: str) -> set[Figure]:
    text = _MARKERS.sub(" ", text)
    out = set()
    for prefix, digits, unit, word in _FIGURE.findall(text):
        plain = digits.replace(",", "")
        if plain.count(".") > 1:  # a version such as 3.11.4
            out.add(Figure(prefix.lower(), plain))
            continue
        value = float(plain) * _SCALE.get(word.lower(), 1.0) * _SCALE.get(unit.lower(), 1.0)
        out.add(Figure(prefix.lower(), f"{value:.6g}"))
    return out


def _new_figures(text: str, question: str) -> set[Figure]:
    asked = figures(question)
    return {f for f in figures(text) if f not in asked and Figure("", f.number) not in asked}


def figures_supported(answer: str, question: str, passages: Sequence[str]) -> bool:
    """False when the answer's figures occur in none of the passages.

    Figures the answer adds to the question need at least one match in the sources. An
    answer whose only figures are the question's own ("such as A100 or H100?" → "Llama 2
    used the H100") needs every one of them in the sources: otherwise it merely picks an
    option the sources never mention (the "2" of "Llama 2" must not vouch for it).
    """
    stated = figures(answer)
    if not stated:
        return True
    available: set[Figure] = set().union(*(figures(p) for p in passages)) if passages else set()
    claimed = _new_figures(answer, question)
    if not claimed:
        return all(f.found_in(available) for f in stated)
    return any(f.found_in(available) for f in claimed)


# Capitalised words that open or glue sentences rather than name something.
# fmt: off
_NOT_NAMES = frozenset({
    "a", "an", "and", "as", "according", "also", "answer", "based", "both", "but", "by", "for",
    "from", "he", "her", "his", "however", "i", "if", "in", "it", "its", "no", "not", "of",
    "on", "or", "she", "so", "source", "sources", "that", "the", "their", "these", "they",
    "this", "those", "to", "we", "while", "with", "yes", "there", "here", "what", "when",
    "where", "which", "who", "thus", "therefore", "overall", "note", "although", "because",
    "since", "unlike", "like",
})
# fmt: on
_NAME = re.compile(rf"(?<![\w'’-]){UPPER}[\w'’-]*")
_POSSESSIVE = re.compile(r"['’]s?$")


def _names(sentence: str) -> set[str]:
    out = set()
    for m in _NAME.finditer(_MARKERS.sub(" ", sentence)):
        word = _POSSESSIVE.sub("", m.group(0)).strip("-")
        if word and word.lower() not in _NOT_NAMES:
            out.add(word)
    return out


def answer_sentence(answer: str) -> str:
    """The answer's first sentence: the answer proper (the prompt asks for one or two)."""
    return first_sentence(_MARKERS.sub("", answer).strip())


def unsupported_names(answer: str, question: str, passages: Sequence[str]) -> list[str]:
    """Names in the answer's first sentence found in neither the question nor any passage.

    A name is a capitalised word ("Adam", "Zuckerberg", "RISC-V"), compared without case
    and as a substring, so "Meta's" matches "Meta" and "LLaMA" matches "Llama". The first
    sentence is the answer itself; later sentences often add harmless background. An
    answer that names what no source names ("Meta used the Adam optimizer") comes from
    the model's memory or imagination, not from the articles.
    """
    haystack = " ".join([question, *passages]).lower()
    return sorted(n for n in _names(answer_sentence(answer)) if n.lower() not in haystack)


def _claims(sentence: str, question: str) -> tuple[set[Figure], set[str]]:
    """What a sentence adds to the question: its new figures, else its new names."""
    figs = _new_figures(sentence, question)
    if figs:
        return figs, set()
    asked = question.lower()
    return set(), {n.lower() for n in _names(sentence) if n.lower() not in asked}


def _support(claims: tuple[set[Figure], set[str]], text: str, text_figs: set[Figure]) -> int:
    figs, names = claims
    if figs:
        return sum(1 for f in figs if f.found_in(text_figs))
    lowered = text.lower()
    return sum(1 for n in names if n in lowered)


def repair_citations(answer: str, question: str, sources: Mapping[int, str]) -> str:
    """Point each sentence's citation markers at the sources that state what it claims.

    A sentence's claims are the figures it adds to the question or, when it states none,
    the names it adds (capitalised words). Per sentence with claims:
    - cited sources containing none of them are dropped when another cited source
      contains some;
    - when no cited source contains any of them, the markers move to the one source that
      contains the most (ties: the better-ranked source).
    Sentences without claims, and those whose claims no source contains, are left as
    the model wrote them.
    """
    source_figs = {n: figures(t) for n, t in sources.items()}
    parts = [s.text for s in sentence_spans(answer)]
    out = []
    for sentence in parts:
        cited = [int(n) for n in _MARKER_NUM.findall(sentence)]
        claims = _claims(sentence, question)
        if not cited or not (claims[0] or claims[1]):
            out.append(sentence)
            continue
        support = {n: _support(claims, sources[n], source_figs[n]) for n in sources}
        keep = [n for n in dict.fromkeys(cited) if support.get(n, 0) > 0]
        if not keep:
            best = max(sources, key=lambda n: (support[n], -n), default=None)
            if best is None or support[best] == 0:
                out.append(sentence)
                continue
            keep = [best]
        if keep == list(dict.fromkeys(cited)):
            out.append(sentence)
            continue
        out.append(rewrite_markers(sentence, keep))
    return " ".join(out)


def rewrite_markers(sentence: str, keep: list[int]) -> str:
    """Keep only ``keep`` in the sentence's marker groups; if none survives, ``keep`` takes
    the place of the first group."""
    sentence = _drop_from_lists(sentence, keep)  # "[1] and [2]" losing [2] is "[1]"
    survivors = any(int(n) in keep for n in _MARKER_NUM.findall(sentence))
    first = True

    def repl(m: re.Match[str]) -> str:
        nonlocal first
        lead = " " if m.group(0)[:1].isspace() else ""
        if survivors:
            nums = [int(n) for n in _MARKER_NUM.findall(m.group(0)) if int(n) in keep]
        else:
            nums = keep if first else []
        first = False
        return lead + "".join(f"[{n}]" for n in nums) if nums else ""

    text = _MARKERS.sub(repl, sentence)
    return re.sub(r"[ \t]+([.,;:!?])", r"\1", text)


_JOINED = re.compile(r"\[(\d+)\](?:\s*,\s*|\s*,?\s+(?:and|or|&)\s+)\[(\d+)\]")


def _drop_from_lists(sentence: str, keep: list[int]) -> str:
    """Two markers joined ("[1] and [2]", "[1], [2]") where one is dropped become the one
    kept, so "in sources [1] and [2], which" does not read "in sources [1] and, which"."""

    def join(m: re.Match[str]) -> str:
        a, b = int(m.group(1)), int(m.group(2))
        if a in keep and b in keep:
            return m.group(0)
        return f"[{a if a in keep else b}]"  # neither kept: the second may join the next

    while True:
        joined = _JOINED.sub(join, sentence)
        if joined == sentence:
            return sentence
        sentence = joined
