"""Retrieval narrows each chunk to the sentences that bear on the question (fewer prompt
tokens), and the narrowed passage is still an exact span of the document."""

from __future__ import annotations

from app.embedding import Embedder
from app.retrieval.base import Hit, Retrieval
from app.retrieval.postprocess import SentenceWindow
from app.vectorstore.snapshot import ChunkRecord


def test_sentence_window_keeps_the_sentence_most_like_the_question_with_exact_spans(
    embedder: Embedder,
) -> None:
    doc = (
        "The harbour ferry was built in 1961. Its hull is painted green. The town council "
        "owns it. In summer the ferry runs every 20 minutes. In winter it runs hourly. "
        "Tickets cost two euros."
    )
    chunk = ChunkRecord(0, "d:0", "d", 0, 100, 100 + len(doc), None, doc, 60)
    hits = [Hit(chunk, fused_score=1.0, dense_score=0.5)]
    out = SentenceWindow(embedder, before=1, after=1)(
        Retrieval("How often does the ferry run in summer?", 5, hits)
    )
    narrowed = out.hits[0].chunk
    assert "every 20 minutes" in narrowed.text
    assert "1961" not in narrowed.text and "two euros" not in narrowed.text
    assert doc[narrowed.start - 100 : narrowed.end - 100] == narrowed.text
