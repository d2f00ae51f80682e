"""A sentence is read with the sentences it refers back through, even when they lie before
the passage in its document: a chunk can begin at "The new ship was built …", and the
ship's name is in the chunk before."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.answer.service import RagService
from app.answer.verify import Passage, check_claim
from app.embedding import Embedder
from app.text.sentences import sentences_before
from tests.support import make_settings

FERRY = (
    "Harbour news\n\n"
    "The operator will start a new timetable on the Skerra route on 3 March 2025, the day "
    "its new ship, the MV Kittiwake Star, takes over the crossing. The Kittiwake Star "
    "replaces the MV Osprey, which has served the island since 1989 and will be sold once "
    "the new ship has settled into her timetable.\n\n"
    "The new ship was built at Dunmore Yards and handed over on 9 January 2025. She is 64 "
    "metres long and can take 210 passengers and 32 cars."
)
QUESTION = "How many cars can the Kittiwake Star take?"
ANSWER = "The Kittiwake Star can take 32 cars."


@pytest.mark.unit
def test_the_sentences_before_a_passage_stop_at_a_heading() -> None:
    start = FERRY.index("The new ship")
    assert sentences_before(FERRY, start) == [
        "The operator will start a new timetable on the Skerra route on 3 March 2025, the "
        "day its new ship, the MV Kittiwake Star, takes over the crossing.",
        "The Kittiwake Star replaces the MV Osprey, which has served the island since 1989 "
        "and will be sold once the new ship has settled into her timetable.",
    ]
    assert sentences_before(FERRY, start, n=1)[0].startswith("The Kittiwake Star replaces")
    # the heading ends the search: nothing before the first paragraph
    assert sentences_before(FERRY, FERRY.index("The operator")) == []


@pytest.mark.unit
def test_a_pronoun_and_a_description_lead_back_to_the_name_before_the_passage() -> None:
    """ "She" → "The new ship" → "… the MV Kittiwake Star …": two sentences back, the first
    of them outside the passage."""
    start = FERRY.index("The new ship")
    text = FERRY[start:]
    alone = Passage(1, "Harbour news", "", text)
    assert not check_claim(ANSWER, QUESTION, [alone], min_subject=0.2).stated
    read_on = Passage(1, "Harbour news", "", text, tuple(sentences_before(FERRY, start)))
    check = check_claim(ANSWER, QUESTION, [read_on], min_subject=0.2)
    assert check.stated
    assert check.support[0].text.startswith("She is 64 metres long")


def test_the_service_reads_a_passage_with_what_comes_before_it_in_its_document(
    tmp_path: Path, embedder: Embedder
) -> None:
    """Real embedder and index: the chunk that holds the answer begins after the ship's
    name; the answer check finds it in the document and the answer stands, quoted."""
    filler = "Fares for islanders stay as they are, and a late sailing is added on Fridays."
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "ferry.md").write_text(
        FERRY.replace("Harbour news\n\n", "# Harbour news\n\n").replace(
            "crossing. The", f"crossing. {filler} The"
        ),
        encoding="utf-8",
    )
    service = RagService(make_settings(tmp_path), embedder=embedder)
    service.ingest([tmp_path / "docs"])
    hits, _ = service.retrieve(QUESTION, service.settings.top_k)
    holding = [h.chunk.text for h in hits if "32 cars" in h.chunk.text]
    assert holding and all("Kittiwake" not in t for t in holding)  # the name is before it
    answer = service.check_text(QUESTION, ANSWER)
    assert answer.answerable, answer.detail
    assert any((c.quote or "").startswith("She is 64 metres long") for c in answer.citations)
