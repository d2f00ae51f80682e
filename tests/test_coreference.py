"""What a sentence refers back to. Writers name a thing once and then call it "she", "it"
or "the base"; the sentence that states the answer often names nothing itself. The claim
check reads such a sentence with the sentences its subject is named in: in its passage,
or just before the passage in its document when a chunk starts mid-story."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.answer.service import RagService
from app.answer.verify import Passage, check_claim
from app.embedding import Embedder
from app.vectorstore.snapshot import DocumentRecord
from tests.support import make_settings

FERRY_BEFORE = (
    "The company's new ship, the MV Gannet Rose, takes over the crossing in November. "
    "The new ship was built by Hallburgh Marine at its yard on the estuary. "
)
FERRY = "She is 68 metres long and can take 240 passengers and 36 cars."
QUESTION = "How many cars can the Gannet Rose take?"
ANSWER = "The Gannet Rose can take 36 cars [1]."


@pytest.mark.unit
def test_a_pronoun_is_followed_back_into_the_text_before_the_passage() -> None:
    alone = Passage(1, "Ferry news", "", FERRY)
    assert not check_claim(ANSWER, QUESTION, [alone]).stated
    after = Passage(1, "Ferry news", "", FERRY, before=FERRY_BEFORE)
    check = check_claim(ANSWER, QUESTION, [after])
    assert check.stated
    assert check.support[0].text == FERRY  # the quote is the passage's sentence, not before


BASE = (
    "The wind farm will be run from a new operations base on West Quay in Scarrowby. "
    "The county council paid GBP 12 million to strengthen the quay. "
    "The base will employ 85 people full time."
)


@pytest.mark.unit
def test_the_noun_is_followed_to_the_sentence_that_says_it() -> None:
    q = "How many full-time staff will the operations base at Scarrowby employ?"
    assert check_claim("It will employ 85 people [1].", q, [Passage(1, "Wind", "", BASE)]).stated
    # the base never named with Scarrowby: the sentence about another place does not count
    elsewhere = BASE.replace("base on West Quay in Scarrowby", "base on West Quay in Dunmore")
    other = Passage(1, "Wind", "", f"A pier was rebuilt in Scarrowby. {elsewhere}")
    assert not check_claim("It will employ 85 people [1].", q, [other]).stated


@pytest.mark.unit
def test_a_sentence_that_names_its_own_subject_does_not_borrow_one() -> None:
    text = "Hallburgh Marine built the Gannet Rose. Corvane Ltd can take 36 cars on its barge."
    check = check_claim(ANSWER, QUESTION, [Passage(1, "Ferry news", "", text)])
    assert not check.stated


@pytest.mark.unit
def test_text_before_a_chunk_leaves_out_front_matter() -> None:
    text = "Published 3 May 2024\nThe ferry sails at dawn. She carries 36 cars."
    doc = DocumentRecord("d", "x.md", "Ferry", "h", text, 0.0, skip=((0, 21),))
    start = text.index("She")
    assert doc.text_before(start) == "The ferry sails at dawn. "
    assert doc.text_before(start, chars=9) == "at dawn. "
    assert "Published" not in doc.text_before(start, chars=500)


def test_the_service_reads_the_text_before_each_source(tmp_path: Path, embedder: Embedder) -> None:
    """Through the real index: the sentence that states the answer opens a chunk, and the
    ship it is about is named only in the chunk before."""
    articles = tmp_path / "articles"
    articles.mkdir()
    filler = " ".join(f"Sailing {n} calls at the pier on time." for n in range(6))
    (articles / "ferry.md").write_text(
        f"# Ferry news\n\n{FERRY_BEFORE}It replaces an older ship, which will be sold at auction next spring after its last run."
        f"\n\n{FERRY} {filler}\n"
    )
    settings = make_settings(tmp_path, chunk_tokens=64, chunk_overlap=0)
    service = RagService(settings, embedder=embedder)
    service.ingest([articles])
    chunk = next(c for c in service.snapshot.chunks if FERRY in c.text)
    assert "Gannet" not in chunk.text  # the premise: the chunk itself never names the ship
    answer = service.check_text(QUESTION, ANSWER)
    assert answer.reason == "answered", answer.detail
    assert answer.citations[0].quote == FERRY
