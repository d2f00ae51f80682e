"""Figures in an answer are checked against the sources, and citations follow the figures."""

from __future__ import annotations

import pytest

from app.answer.grounding import (
    Figure,
    figures,
    figures_supported,
    repair_citations,
    unsupported_names,
)

pytestmark = pytest.mark.unit  # fast: no model, no server

SOURCES = {
    1: "Llama 2 comes in 7B, 13B and 70B sizes.",
    2: "Its context window is 4,000 tokens, twice that of the first version.",
    3: "Meta says Llama 2 was trained on 2 trillion tokens.",
}


def test_figures_are_numbers_with_their_identifier_letters() -> None:
    found = figures(
        "Llama 2 saw 2 trillion tokens [1], a 4,000-token window, on H100s, 70B, 1.50%."
    )
    assert found == {
        Figure("", "2"),  # Llama 2
        Figure("", "2e+12"),  # 2 trillion
        Figure("", "4000"),
        Figure("h", "100"),
        Figure("", "7e+10"),
        Figure("", "1.5"),
    }
    assert figures("4k or 4000") == {Figure("", "4000")}
    assert figures("70B or 70 billion") == {Figure("", "7e+10")}
    assert figures("a 13-billion-parameter model") == {Figure("", "1.3e+10")}


def test_an_invented_figure_is_unsupported() -> None:
    assert not figures_supported(
        "It has 96 attention heads [1].", "How many heads?", list(SOURCES.values())
    )


def test_a_figure_found_in_a_source_is_supported_even_with_another_unit() -> None:
    assert figures_supported(
        "The largest has 70 billion parameters [1].", "How big?", list(SOURCES.values())
    )


def test_an_answer_without_figures_is_not_judged_here() -> None:
    assert figures_supported("Meta released it [1].", "Who released it?", list(SOURCES.values()))


def test_echoing_an_option_from_the_question_needs_a_source() -> None:
    question = "Which GPU, such as A100 or H100, was Llama 2 trained on?"
    assert not figures_supported(
        "It was trained on the H100 [3].", question, list(SOURCES.values())
    )
    # the "2" of "Llama 2", which the sources do state, does not vouch for the H100
    assert not figures_supported(
        "According to [1], Llama 2 was trained on the H100 GPU model.",
        question,
        list(SOURCES.values()),
    )
    # a figure the question names and a source states is fine
    assert figures_supported("Llama 2 [1] is its name.", "What is Llama 2?", list(SOURCES.values()))


def test_identifier_letters_must_match_exactly() -> None:
    assert not figures_supported("It used A100 GPUs.", "Which GPU?", ["It ran on H100 GPUs."])


def test_a_citation_without_the_figure_is_dropped_when_another_has_it() -> None:
    fixed = repair_citations("The window is 4,000 tokens [1][2].", "What is the window?", SOURCES)
    assert fixed == "The window is 4,000 tokens [2]."


def test_a_citation_moves_to_the_source_that_states_the_figure() -> None:
    fixed = repair_citations("It saw 2 trillion tokens [1].", "How much data?", SOURCES)
    assert fixed == "It saw 2 trillion tokens [3]."


def test_repair_works_sentence_by_sentence() -> None:
    answer = (
        "The window is 4,000 tokens [2]. It was made by Meta [1]. It saw 2 trillion tokens [2]."
    )
    # [1] never names Meta; [3] does
    assert repair_citations(answer, "Tell me about it.", SOURCES) == (
        "The window is 4,000 tokens [2]. It was made by Meta [3]. It saw 2 trillion tokens [3]."
    )


def test_figures_no_source_states_leave_the_citations_alone() -> None:
    answer = "It has 96 heads [1]."
    assert repair_citations(answer, "How many heads?", SOURCES) == answer


def test_figures_taken_from_the_question_are_not_evidence() -> None:
    # "2" (from "Llama 2") is in source 1, but the question brought it: the window is the claim
    answer = "Llama 2 has a 4,000-token window [1]."
    fixed = repair_citations(answer, "What is the context window of Llama 2?", SOURCES)
    assert fixed == "Llama 2 has a 4,000-token window [2]."


def test_a_name_no_source_mentions_is_unsupported() -> None:
    passages = ["Meta trained Llama 2 on 2 trillion tokens of public data."]
    question = "Which optimizer did Meta use when training Llama 2?"
    assert unsupported_names("Meta used the Adam optimizer [1].", question, passages) == ["Adam"]


def test_names_from_the_sources_or_the_question_are_supported_without_case() -> None:
    passages = ["Meta open sourced LLaMA; Microsoft is its partner for Llama 2."]
    answer = "According to [1], Meta's partner is Microsoft, for LLaMA and Llama 2."
    assert unsupported_names(answer, "Who is the partner?", passages) == []
    assert unsupported_names("It ran on RISC-V.", "Does it use RISC-V?", passages) == []


def test_only_the_answer_sentence_is_held_to_the_names_rule() -> None:
    passages = ["Microsoft is Meta's partner for Llama 2."]
    answer = "Microsoft is the partner [1]. Satya Nadella announced it at Inspire."
    assert unsupported_names(answer, "Who is the partner?", passages) == []


def test_without_figures_citations_follow_the_names_the_answer_adds() -> None:
    sources = {
        1: "Like OpenAI, Meta trained a ChatGPT-like dialogue model on human feedback.",
        2: "The fine-tuned dialogue models are called Llama 2-Chat.",
    }
    fixed = repair_citations(
        "They are called Llama 2-Chat [1].", "What are Meta's dialogue models called?", sources
    )
    assert fixed == "They are called Llama 2-Chat [2]."
    # a cited source that names it stays cited
    kept = repair_citations("They are Llama 2-Chat [2].", "What are they called?", sources)
    assert kept == "They are Llama 2-Chat [2]."
