"""Chunks respect sentences and headings, stay within the token budget and overlap."""

from __future__ import annotations

from pathlib import Path

from app.embedding import Embedder
from app.ingest.chunking import chunk_document
from app.ingest.loaders import load_file

ARTICLE = Path(__file__).resolve().parent.parent / "data" / "articles" / "llama-2-launch.md"


def chunks_of(embedder: Embedder, size: int = 120, overlap: int = 24):  # type: ignore[no-untyped-def]
    doc = load_file(ARTICLE)
    return doc, chunk_document(doc, embedder.count_tokens, embedder.split_tokens, size, overlap)


def test_every_chunk_span_is_exactly_its_text(embedder: Embedder) -> None:
    doc, chunks = chunks_of(embedder)
    assert len(chunks) > 5
    for c in chunks:
        assert doc.text[c.start : c.end] == c.text
        assert c.chunk_id == f"{doc.doc_id}:{c.index}"


def test_chunks_stay_within_the_token_budget(embedder: Embedder) -> None:
    _, chunks = chunks_of(embedder, size=80, overlap=16)
    for c in chunks:
        assert embedder.count_tokens([c.text])[0] <= 80 + 8  # joins may add a token or two


def test_chunks_end_at_sentence_boundaries(embedder: Embedder) -> None:
    _, chunks = chunks_of(embedder)
    for c in chunks:
        assert c.text.rstrip()[-1] in '.!?"”)’:', c.text[-60:]


def test_neighbouring_chunks_overlap_within_a_section(embedder: Embedder) -> None:
    _, chunks = chunks_of(embedder, size=80, overlap=30)
    overlapping = [
        (a, b) for a, b in zip(chunks, chunks[1:], strict=False) if a.heading == b.heading
    ]
    assert overlapping
    assert any(b.start < a.end for a, b in overlapping)


def test_a_heading_starts_a_new_chunk_and_is_recorded(embedder: Embedder) -> None:
    doc, chunks = chunks_of(embedder, size=400, overlap=0)
    sections = [h.text for h in doc.headings if h.level == 2]
    starts = [c.text.splitlines()[0] for c in chunks]
    for title in sections:
        assert f"## {title}" in starts
    for c in chunks:
        assert c.heading == doc.heading_at(c.start)


def test_a_sentence_longer_than_a_chunk_is_split_without_losing_text(
    embedder: Embedder, tmp_path: Path
) -> None:
    long_sentence = " ".join(f"word{i}" for i in range(600)) + "."
    p = tmp_path / "long.txt"
    p.write_text(long_sentence)
    doc = load_file(p)
    chunks = chunk_document(doc, embedder.count_tokens, embedder.split_tokens, 100, 0)
    assert len(chunks) > 3
    assert "".join(c.text for c in chunks).replace(" ", "") == doc.text.replace(" ", "")
