"""Retrieval narrows each chunk to the sentences that bear on the question (fewer prompt
tokens), and the narrowed passage is still an exact span of the document."""

from __future__ import annotations

from app.embedding import Embedder
from app.retrieval.base import Hit, Retrieval
from app.retrieval.postprocess import SentenceWindow
from app.retrieval.sentence_budget import SentenceBudget
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


def _chunk(row: int, doc: str, offset: int = 0) -> ChunkRecord:
    return ChunkRecord(row, f"d:{row}", "d", row, offset, offset + len(doc), None, doc, 60)


def test_sentence_budget_keeps_the_best_passage_whole_and_the_answering_sentence_of_the_rest(
    embedder: Embedder,
) -> None:
    first = "The harbour ferry was built in 1961. Its hull is painted green."
    second = (
        "The town council owns the ferry. It is moored at the north quay overnight. "
        "The ferry carries at most 48 passengers on each crossing. A café sells tea on "
        "the quay. The council meets on Tuesdays."
    )
    third = "Gulls nest on the old warehouse roof. The warehouse is now a museum of boats."
    offsets = (0, 500, 1000)
    hits = [
        Hit(_chunk(i, text, off), fused_score=1.0 - i / 10, dense_score=0.5)
        for i, (text, off) in enumerate(zip((first, second, third), offsets, strict=True))
    ]
    out = SentenceBudget(embedder, budget=95)(
        Retrieval("How many passengers can the ferry carry?", 5, hits)
    )
    kept = {h.chunk.row: h.chunk for h in out.hits}
    assert kept[0].text == first  # the best-ranked passage is read whole
    narrowed = kept[1]
    assert "48 passengers" in narrowed.text
    assert "Tuesdays" not in narrowed.text  # beyond the budget and off the question
    assert second[narrowed.start - 500 : narrowed.end - 500] == narrowed.text  # exact span
    assert 2 not in kept  # nothing of the third fits once the answer is in


def test_a_zero_budget_still_keeps_the_best_passage(embedder: Embedder) -> None:
    hits = [Hit(_chunk(0, "One sentence. Another one."), fused_score=1.0, dense_score=0.5)]
    out = SentenceBudget(embedder, budget=0)(Retrieval("What is it?", 5, hits))
    assert [h.chunk.text for h in out.hits] == ["One sentence. Another one."]
