"""Raw model text becomes an answer with valid [n] markers; refusals are recognised."""

from __future__ import annotations

import pytest

from app.answer.citations import is_refusal, parse_citations
from app.answer.citing import earlier_texts, lead_sentences, short_answer
from app.retrieval.base import Hit
from app.vectorstore.snapshot import ChunkRecord, DocumentRecord

pytestmark = pytest.mark.unit  # fast: no model, no server


def test_valid_markers_are_kept_and_listed_in_order() -> None:
    parsed = parse_citations("Llama 2 saw 2 trillion tokens [2]. Microsoft is a partner [1].", 3)
    assert parsed.cited == [2, 1]
    assert parsed.text == "Llama 2 saw 2 trillion tokens [2]. Microsoft is a partner [1]."


def test_markers_pointing_at_no_source_are_removed() -> None:
    parsed = parse_citations("A fact [7]. Another [1, 9].", 3)
    assert parsed.text == "A fact. Another [1]."
    assert parsed.cited == [1] and parsed.removed_markers == 2


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("x [1,2]", [1, 2]), ("x [Source 2]", [2]), ("x [1-3]", [1, 2, 3]), ("x [2][1]", [2, 1])],
)
def test_marker_variants_are_understood(raw: str, expected: list[int]) -> None:
    assert parse_citations(raw, 5).cited == expected


@pytest.mark.parametrize(
    "text",
    [
        "The sources do not contain the answer.",
        "The learning rate used to train Llama 2 was not specified in the sources.",
        "There is no information about the learning rate in the sources.",
        "I don't know.",
        "The learning rate was not explicitly stated in the sources provided. It is likely 0.01.",
        "The provided sources don't mention it [1].",
        "The context does not provide information about the optimizer.",
        "According to [1], Llama 2 70B's score on the MMLU benchmark was not provided in that source.",
        "The exact figure is not specified.",
    ],
)
def test_refusals_are_recognised(text: str) -> None:
    assert is_refusal(text)


# Phrasings no ragqa run produced (the list above is the eval run's own outputs): LlamaIndex's
# answers when its context lacks the answer, and other ways models put it. ``…`` stands for
# the rest of the sentence.
UNSEEN_REFUSALS = [
    "Empty Response",
    "The provided context does not contain information about the learning rate used for Llama 2.",
    "I'm sorry, but the context does not mention the optimizer Meta used.",
    "I\u2019m sorry, but the context does not mention the optimizer Meta used.",
    "Based on the given context, it is not possible to determine the learning rate.",
    "The context information does not include the batch size.",
    "It is not possible to answer this question based on the provided context.",
    "The answer is not in the provided context.",
    "None of the sources mention the learning rate.",
    "Unfortunately, the documents do not say what learning rate was used.",
    "I could not find the learning rate in the provided documents.",
    "Sorry, I don't have information about that.",
    "No answer can be found in the sources.",
    "The information provided does not mention any payment for the partnership.",
]


@pytest.mark.parametrize("text", UNSEEN_REFUSALS)
def test_unseen_refusal_phrasings_are_recognised(text: str) -> None:
    assert is_refusal(text)


@pytest.mark.parametrize(
    "text",
    [
        "Llama 2 was trained on 2 trillion tokens [1].",
        "Microsoft is the partner [2]. The sources do not mention the price.",
        "The cost was not disclosed by Meta, but Nathan Lambert puts it above $25 million [1].",
        "Empty batches were dropped before training [1].",
        "Researchers could not find any copy of the weights before March 2023 [2].",
        "Meta said it was not possible to release the training data [1].",
        "It is possible to determine the cost from [1]: about $25 million.",
    ],
)
def test_answers_are_not_mistaken_for_refusals(text: str) -> None:
    assert not is_refusal(text)


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("According to [2], the hall cost £2.4 million.", "The hall cost £2.4 million [2]."),
        ("According to the sources, Ada Lund runs it [1].", "Ada Lund runs it [1]."),
        ("According to sources [1] and [3], it opened in May.", "It opened in May [1][3]."),
        ("It opened in May, as stated in [1].", "It opened in May [1]."),
        ("It opened in May. This is stated in [1].", "It opened in May [1]."),
        (
            "It seats 300. This information is provided in the first source, [2].",
            "It seats 300 [2].",
        ),
        # an attribution that is part of the answer stays, and so does a second fact
        (
            "According to the council, it seats 300 [1]. It opened in May [2].",
            "According to the council, it seats 300 [1]. It opened in May [2].",
        ),
        ("One. Two. Three.", "One. Two."),
        ("The sources do not contain the answer.", "The sources do not contain the answer."),
    ],
)
def test_an_answer_gives_its_fact_first_and_keeps_its_markers(raw: str, shown: str) -> None:
    assert short_answer(raw) == shown


@pytest.mark.parametrize(
    ("sentence", "keep", "shown"),
    [
        ("Seen in sources [1] and [2], which agree.", [1], "Seen in sources [1], which agree."),
        ("Seen in sources [2] and [1], which agree.", [1], "Seen in sources [1], which agree."),
        (
            "It cost £3 million [1] and opened in May [2].",
            [1],
            "It cost £3 million [1] and opened in May.",
        ),
        ("Found in [1], [2] and [3].", [1], "Found in [1]."),
    ],
)
def test_markers_dropped_from_a_list_leave_no_dangling_and(
    sentence: str, keep: list[int], shown: str
) -> None:
    from app.answer.grounding import rewrite_markers

    assert rewrite_markers(sentence, keep) == shown


@pytest.mark.parametrize(
    ("sentence", "keep", "shown"),
    [
        ("Output rose [1] and [2] and wages fell.", [1], "Output rose [1] and wages fell."),
        ("Ostrel [1] and, later, Vellum [2].", [1], "Ostrel [1] and, later, Vellum."),
        ("Found in [2], [3] and [1].", [1], "Found in [1]."),
        ("In [2] and [3], it rose.", [1], "In [1], it rose."),
        ("Seen in [1] and [2].", [1, 2], "Seen in [1] and [2]."),
    ],
)
def test_only_the_joiners_of_dropped_markers_go(sentence: str, keep: list[int], shown: str) -> None:
    from app.answer.grounding import rewrite_markers

    assert rewrite_markers(sentence, keep) == shown


def test_a_chunk_is_read_with_its_document_before_it() -> None:
    text = (
        "Intro line cut here. The Saltmarsh Health Trust was formed in 2022. It has two "
        "sites. It employs 4,000 staff. The trust's chair is Orla Fenwick."
    )
    at = text.index("The trust's")
    doc = DocumentRecord("d1", "a.txt", "Hospitals", "h", text, 0.0)
    chunk = ChunkRecord(0, "d1:0", "d1", 0, at, len(text), None, text[at:], 8)
    lost = ChunkRecord(1, "d9:0", "d9", 0, 0, 5, None, "Other", 1)  # its document is gone
    earlier = earlier_texts({"d1": doc}, [Hit(chunk, 1.0), Hit(lost, 0.5)])
    assert earlier == [text[:at], ""]
    # up to three sentences just before the chunk; the window's first may be cut: left out
    assert lead_sentences(earlier) == [
        (
            "The Saltmarsh Health Trust was formed in 2022.",
            "It has two sites.",
            "It employs 4,000 staff.",
        ),
        (),
    ]
