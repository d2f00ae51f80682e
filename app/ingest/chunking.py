"""Split documents into overlapping, token-bounded chunks that respect structure.

Chunks are built from sentences; a chunk never crosses a heading, prefers to end at a
paragraph, and holds at most ``chunk_tokens`` tokens of the embedder's tokenizer. The next
chunk starts with the last sentences of the previous one, up to ``overlap`` tokens.
Every chunk records the character span ``[start, end)`` it covers in ``Document.text``,
so ``doc.text[start:end] == chunk.text`` always holds. The spans in ``Document.skip`` (the
header's date, byline, navigation and title lines) are in no chunk, and a chunk of a PDF
never crosses a page boundary: it records its ``page``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from app.corpus import Chunk, Document
from app.text.sentences import PROSE_SENTENCE_END as _SENTENCE_END

TokenCounter = Callable[[Sequence[str]], list[int]]
# Splits a long span into pieces of at most n tokens: returns (start, end) offsets.
TokenSplitter = Callable[[str, int], list[tuple[int, int]]]

_PARAGRAPH = re.compile(r"\n\s*\n")
_MD_HEADING_LINE = re.compile(r"^#{1,6}\s")


@dataclass(frozen=True)
class _Sentence:
    start: int
    end: int
    paragraph_end: bool
    heading_start: bool  # a heading begins here: a hard chunk boundary


def _sentences(text: str) -> list[tuple[int, int, bool, bool]]:
    """(start, end, ends_paragraph, is_heading) spans of non-blank sentences."""
    out: list[tuple[int, int, bool, bool]] = []
    pos = 0
    paragraphs: list[tuple[int, int]] = []
    for m in _PARAGRAPH.finditer(text):
        paragraphs.append((pos, m.start()))
        pos = m.end()
    paragraphs.append((pos, len(text)))
    for p_start, p_end in paragraphs:
        para = text[p_start:p_end]
        if not para.strip():
            continue
        is_heading = bool(_MD_HEADING_LINE.match(para.lstrip()))
        spans: list[tuple[int, int]] = []
        s = 0
        for m in _SENTENCE_END.finditer(para):
            spans.append((s, m.start()))
            s = m.end()
        spans.append((s, len(para)))
        spans = [(a, b) for a, b in spans if para[a:b].strip()]
        for i, (a, b) in enumerate(spans):
            # trim whitespace so offsets point at real text
            while a < b and para[a].isspace():
                a += 1
            while b > a and para[b - 1].isspace():
                b -= 1
            out.append((p_start + a, p_start + b, i == len(spans) - 1, is_heading and i == 0))
    return out


def chunk_document(
    doc: Document,
    count_tokens: TokenCounter,
    split_tokens: TokenSplitter,
    chunk_tokens: int = 160,
    overlap: int = 32,
) -> list[Chunk]:
    if overlap >= chunk_tokens:
        raise ValueError("overlap must be smaller than chunk_tokens")
    sents = _bounded_sentences(doc, count_tokens, split_tokens, chunk_tokens)
    chunks: list[Chunk] = []
    current: list[tuple[_Sentence, int]] = []
    used = 0
    for sent, n in sents:
        if sent.heading_start and current:
            chunks.append(_chunk(doc, len(chunks), current))
            current, used = [], 0
        elif current and used + n > chunk_tokens:
            chunks.append(_chunk(doc, len(chunks), current))
            current = _overlap_tail(current, overlap)
            used = sum(c for _, c in current)
            if used + n > chunk_tokens:
                current, used = [], 0
        current.append((sent, n))
        used += n
        # A heading on its own is not worth a chunk: keep it with the text that follows.
    if current:
        chunks.append(_chunk(doc, len(chunks), current))
    return _merge_heading_only(chunks, doc.text)


def _bounded_sentences(
    doc: Document, count_tokens: TokenCounter, split_tokens: TokenSplitter, chunk_tokens: int
) -> list[tuple[_Sentence, int]]:
    """The document's sentences with their token counts, over-long ones broken into
    token-bounded pieces."""
    text = doc.text
    # skipped spans (the header's metadata and boilerplate lines) read as blank lines:
    # no sentence comes from them, and offsets into the text stay exact
    masked = text
    for a, b in doc.skip:
        masked = masked[:a] + "\n" * (b - a) + masked[b:]
    raw = _hard_boundaries(doc, _sentences(masked))
    if not raw:
        return []
    counts = count_tokens([text[a:b] for a, b, _, _ in raw])
    sents: list[tuple[_Sentence, int]] = []
    for (a, b, p_end, head), n in zip(raw, counts, strict=True):
        if n <= chunk_tokens:
            sents.append((_Sentence(a, b, p_end, head), n))
            continue
        pieces = split_tokens(text[a:b], chunk_tokens)
        piece_counts = count_tokens([text[a + x : a + y] for x, y in pieces])
        for j, ((x, y), pn) in enumerate(zip(pieces, piece_counts, strict=True)):
            last = j == len(pieces) - 1
            sents.append((_Sentence(a + x, a + y, p_end and last, head and j == 0), pn))
    return sents


def _chunk(doc: Document, index: int, sents: list[tuple[_Sentence, int]]) -> Chunk:
    start, end = sents[0][0].start, sents[-1][0].end
    return Chunk(
        doc_id=doc.doc_id,
        index=index,
        start=start,
        end=end,
        text=doc.text[start:end],
        heading=doc.heading_at(start),
        n_tokens=sum(n for _, n in sents),
        page=page[0] if (page := doc.page_at(start)) else None,
    )


def _overlap_tail(
    current: list[tuple[_Sentence, int]], overlap: int
) -> list[tuple[_Sentence, int]]:
    """The last sentences of a chunk, up to ``overlap`` tokens, that open the next one."""
    tail: list[tuple[_Sentence, int]] = []
    total = 0
    for sent, n in reversed(current[1:]):  # never repeat the whole previous chunk
        if total + n > overlap or sent.heading_start:
            break
        tail.insert(0, (sent, n))
        total += n
    return tail


def _hard_boundaries(
    doc: Document, sentences: list[tuple[int, int, bool, bool]]
) -> list[tuple[int, int, bool, bool]]:
    """Mark as a hard boundary (like a heading) each sentence after a skipped span or on a
    new page: a chunk never holds a skipped line between its sentences, nor two pages."""
    if not doc.skip and not doc.pages:
        return sentences
    out = []
    prev_end, prev_page = -1, None
    for a, b, p_end, head in sentences:
        page = doc.page_at(a)
        number = page[0] if page else None
        after_skip = any(prev_end <= s < a for s, _ in doc.skip)
        boundary = after_skip or (prev_end >= 0 and number != prev_page)
        out.append((a, b, p_end, head or boundary))
        prev_end, prev_page = b, number
    return out


def _merge_heading_only(chunks: list[Chunk], text: str) -> list[Chunk]:
    """Drop chunks that are nothing but a heading line (they carry no facts)."""
    kept = [c for c in chunks if not (_MD_HEADING_LINE.match(c.text) and "\n" not in c.text)]
    return [
        Chunk(c.doc_id, i, c.start, c.end, c.text, c.heading, c.n_tokens, c.page)
        for i, c in enumerate(kept)
    ]
