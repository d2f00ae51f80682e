"""The citations stage: from retrieval hits to :class:`Citation` objects, and from a
checked answer to the sources it cites.

The model's ``[n]`` markers are repaired (pointed at the passage stating each sentence's
figures or names); an answer that cites nothing gets the sources that lexically support
it, marked ``inferred``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from app.answer.citations import ParsedAnswer, parse_citations
from app.answer.grounding import repair_citations, rewrite_markers
from app.answer.types import Citation
from app.answer.verify import Sentence
from app.retrieval.base import Hit
from app.text.sentences import sentence_spans, unwrapped_sentences
from app.text.tables import Headers, missing_headers
from app.vectorstore.snapshot import DocumentRecord

INFERRED_MIN_SUPPORT = 0.4
# fmt: off
_STOPWORDS = frozenset([
    "a", "an", "the", "of", "to", "in", "on", "for", "and", "or", "is", "are", "was", "were",
    "be", "been", "by", "with", "as", "at", "from", "that", "this", "it", "its", "which",
    "who", "what", "when", "where", "how", "according", "sources", "source", "about", "than",
    "into", "has", "have", "had", "not",
])
# fmt: on

# the cosine of the answer's embedding with each source's chunk, in source order
Similarity = Callable[[str], list[float]]


def content_words(text: str) -> set[str]:
    words = re.findall(r"[a-z0-9][a-z0-9.,%$-]*", text.lower())
    return {w.strip(".,") for w in words if w.strip(".,") not in _STOPWORDS}


def lost_headers(documents: Mapping[str, DocumentRecord], hits: Sequence[Hit]) -> list[Headers]:
    """For each hit, the header lines of the tables whose rows its chunk holds without
    them: the prompt shows them, and the answer checks read those rows with them."""
    out: list[Headers] = []
    for h in hits:
        doc = documents.get(h.chunk.doc_id)
        out.append(missing_headers(doc.text, h.chunk.start, h.chunk.text) if doc else ())
    return out


def earlier_texts(documents: Mapping[str, DocumentRecord], hits: Sequence[Hit]) -> list[str]:
    """For each hit, its document's text before its chunk: what "the trust" in it may
    refer back to."""
    docs = [documents.get(h.chunk.doc_id) for h in hits]
    return [d.text[: h.chunk.start] if d else "" for d, h in zip(docs, hits, strict=True)]


def lead_sentences(earlier: Sequence[str]) -> list[tuple[str, ...]]:
    """For each hit's :func:`earlier_texts`, the (up to three) sentences just before its
    chunk: a chunk that opens with "It had 61,500 subscribers …" is read with the sentence
    that says what "it" is, as a sentence inside a chunk is read with the one before it."""
    out: list[tuple[str, ...]] = []
    for text in earlier:
        before = unwrapped_sentences(text[-1500:])
        out.append(tuple(s.text for s in before[1:][-3:]))  # the first may be cut
    return out


def citation_for(
    number: int,
    hit: Hit,
    documents: Mapping[str, DocumentRecord],
    text: str | None = None,
    **kw: Any,
) -> Citation:
    """The citation of ``hit`` as source ``number``; ``text`` is a trimmed prefix of it."""
    c = hit.chunk
    doc = documents.get(c.doc_id)
    passage = c.text if text is None else text
    end = c.start + len(passage) if text is not None else c.end
    return Citation(
        number=number,
        doc_id=c.doc_id,
        title=doc.title if doc else "",
        source=doc.source if doc else "",
        chunk_id=c.chunk_id,
        start=c.start,
        end=end,
        heading=c.heading,
        published=doc.published if doc else None,
        author=doc.author if doc else None,
        page=c.page,
        text=passage,
        score=round(hit.dense_score, 4) if hit.dense_score is not None else 0.0,
        **kw,
    )


MAX_ANSWER_SENTENCES = 2


def short_answer(raw: str) -> str:
    """The answer's first two sentences, the fact first: what a small model adds about
    where it read it ("According to [1], …", "…, as stated in [1].", "This is stated in
    [1].") goes, its markers kept, and so does what comes after the second sentence (a
    pasted source only buries the fact)."""
    spans = [s.text for s in sentence_spans(raw.strip())]
    if not spans:
        return raw.strip()
    kept = [_fact_first(spans[0])]
    for s in spans[1:]:
        if _only_says_where(s):  # its markers join the sentence before
            kept[-1] = _with_markers(kept[-1], re.findall(r"\[\d+\]", s))
        else:
            kept.append(s)
    return " ".join(kept[:MAX_ANSWER_SENTENCES])


# where the answer is from, said first or last: "According to [1], …", "Based on the
# sources, …", "…, as stated in [1]."
_FROM_FIRST = re.compile(
    r"^(?:according to|based on|as (?:stated|mentioned|shown) in)\s+"
    r"(?:the\s+)?(?:(?:provided|given)\s+)?(?:(?:sources?|text|passages?|context)\b\s*)?"
    r"((?:\[\d+\][\s,]*(?:and\s+)?)*),\s*",
    re.I,
)
_FROM_LAST = re.compile(
    r",?\s+as (?:stated|mentioned|shown|noted|given|reported|seen) in\s+(?:the\s+)?"
    r"(?:sources?\s*)?((?:\[\d+\][\s,]*(?:and\s+)?)+)(?=[.!?]?$)",
    re.I,
)
_WHERE_ONLY = re.compile(
    r"(?:this|that|these|it)(?: (?:information|answer|fact|figure))? (?:is|was|are|can be)"
    r"(?: (?:also|clearly))? (?:stated|mentioned|found|given|provided|shown|seen|noted)"
    r" in (?:the )?(?:(?:first|second|third) )?(?:sources?|text|passages?)?,?\s*"
    r"(?:\[\d+\][\s,]*(?:and\s+)?)+\.?",
    re.I,
)


def _fact_first(sentence: str) -> str:
    lead = _FROM_FIRST.match(sentence)
    if lead is None or not sentence[lead.end() :].strip():
        marks: list[str] = []
    else:
        marks = re.findall(r"\[\d+\]", lead.group(1))
        rest = sentence[lead.end() :]
        sentence = rest[:1].upper() + rest[1:]
    tail = _FROM_LAST.search(sentence)
    if tail is not None:
        marks += re.findall(r"\[\d+\]", tail.group(1))
        sentence = sentence[: tail.start()] + sentence[tail.end() :]
    return _with_markers(sentence, marks)


def _only_says_where(sentence: str) -> bool:
    return _WHERE_ONLY.fullmatch(sentence.strip()) is not None


def _with_markers(sentence: str, marks: list[str]) -> str:
    """``sentence`` with ``marks`` it does not already hold put before its final stop."""
    new = "".join(m for m in dict.fromkeys(marks) if m not in sentence)
    if not new:
        return sentence
    body = sentence.rstrip()
    stop = body[-1] if body and body[-1] in ".!?" else ""
    return f"{body[: len(body) - len(stop)].rstrip()} {new}{stop}"


def _quoted(source: Citation, support: Sequence[Sentence]) -> Citation:
    """``source`` cited, with the sentence of it that states the answer."""
    mine = [s for s in support if s.source == source.number]
    if not mine:
        return source.model_copy(update={"cited": True})
    first = mine[0]
    return source.model_copy(
        update={
            "cited": True,
            "quote": first.text,
            "quote_start": source.start + first.start,
            "quote_end": source.start + first.end,
        }
    )


def _pin_markers(text: str, numbers: list[int]) -> str:
    """Markers only for ``numbers`` (the sources whose sentences state the answer): others
    are dropped, and if none is left the numbers go where the first marker was, or at
    the end of the first sentence."""
    if re.search(r"\[\d+\]", text):
        return rewrite_markers(text, numbers)
    spans = sentence_spans(text)
    end = spans[0].end if spans else len(text)
    return _with_markers(text[:end], [f"[{n}]" for n in numbers]) + text[end:]


def cite(
    question: str,
    parsed: ParsedAnswer,
    sources: list[Citation],
    similarity: Similarity,
    support: Sequence[Sentence] | None = None,
) -> tuple[str, list[Citation], list[Citation]]:
    """The answer text, the citations and the sources (with ``cited`` set).

    With ``support`` (the sentences an answer check found stating the answer), the
    citations are exactly the sources of those sentences, each with its sentence as
    ``quote`` and the sentence's span in the document. Without it, the model's markers
    are repaired by figures and names, or inferred when it cited nothing.
    """
    by_number = {s.number: s for s in sources}
    if support:
        numbers = list(dict.fromkeys(s.source for s in support if s.source in by_number))
        model_cited = bool(parsed.cited)
        text = _pin_markers(parsed.text, numbers)
        parsed = parse_citations(text, len(sources))
        citations = [_quoted(by_number[n], support) for n in parsed.cited]
        if not model_cited:  # the model cited nothing: ragqa attached these
            citations = [c.model_copy(update={"inferred": True}) for c in citations]
        cited_numbers = {c.number for c in citations}
        sources = [s.model_copy(update={"cited": s.number in cited_numbers}) for s in sources]
        return parsed.text, citations, sources
    repaired = repair_citations(parsed.text, question, {n: s.text for n, s in by_number.items()})
    if repaired != parsed.text:
        parsed = parse_citations(repaired, len(sources))
    citations = [by_number[n].model_copy(update={"cited": True}) for n in parsed.cited]
    if not citations and sources:
        citations = infer_citations(parsed.text, sources, similarity)
    cited_numbers = {c.number for c in citations}
    sources = [s.model_copy(update={"cited": s.number in cited_numbers}) for s in sources]
    return parsed.text, citations, sources


def infer_citations(
    text: str, sources: Sequence[Citation], similarity: Similarity
) -> list[Citation]:
    """The model cited nothing: attach the sources that best support its answer.

    Support is lexical (the answer's words and figures found in the passage) with dense
    similarity as the tie-breaker, so "2 trillion tokens" points at the passage that
    states the figure, not merely one on the same topic.
    """
    words = content_words(text)
    if not words:
        return []
    cosines = similarity(text)
    scored = []
    weight = sum(2.0 if w[0].isdigit() else 1.0 for w in words)
    for i, (src, cos) in enumerate(zip(sources, cosines, strict=True)):
        passage = content_words(src.text)
        found = sum(2.0 if w[0].isdigit() else 1.0 for w in words if w in passage)
        scored.append((found / weight, cos, i))
    scored.sort(reverse=True)
    best = scored[0][0]
    if best < INFERRED_MIN_SUPPORT:
        return []
    picked = [i for sup, _, i in scored if sup >= best - 0.05][:2]
    return [sources[i].model_copy(update={"cited": True, "inferred": True}) for i in picked]
