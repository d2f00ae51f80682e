"""Sums and differences a question asks for are worked out by ragqa from the parts the
answer gives, each of which the checks still verify; the model's own result is dropped."""

from __future__ import annotations

import pytest

from app.answer.arithmetic import asks_difference, difference_stated, one_of_a_total, plan
from app.answer.claims import figure_uses
from app.answer.verify import Passage, check_claim
from app.text.words import stem

pytestmark = pytest.mark.unit


def test_a_total_asked_between_them_is_the_sum_of_the_parts_in_their_unit() -> None:
    found = plan(
        "How much did Vellum and Ostrel get from the programme between them?",
        "Vellum received 2.1 billion dukats and Ostrel received 1.6 billion dukats [1].",
    )
    assert found is not None and found.text() == "3.7 billion dukats"
    assert found.shown("Vellum … [1].").endswith(
        "Together that makes 3.7 billion dukats (worked out by ragqa from the figures above)."
    )


def test_a_wrong_result_of_the_model_is_dropped_before_the_checks() -> None:
    found = plan(
        "Adding up its seed, Series A and Series B, how much has Larkworks raised?",
        "It raised $4.2 million in its seed round [1], $31 million in its Series A and $88 "
        "million in its Series B [2], for a total of $163.2 million.",
    )
    assert found is not None and found.text() == "$123.2 million"
    assert "163.2" not in found.checked and found.checked.endswith("Series B [2].")


def test_a_difference_needs_exactly_two_amounts_and_skips_dates_names_and_markers() -> None:
    found = plan(
        "By how many dollars did Scrivant cut the price of its software in March 2021?",
        "According to [1], GPT-4 aside, it cut the price from $499 to $199 on 3 March 2021.",
    )
    assert found is not None and found.operation == "difference" and found.text() == "$300"
    three = "It cost $499, then $299, then $199 [1]."
    assert plan("By how much did the price fall?", three) is None


def test_nothing_is_done_when_no_sum_is_asked_or_the_answer_gives_one_part() -> None:
    answer = "A paid £3 million and B paid £2 million [1]."
    assert plan("How much did A pay?", answer) is None  # no sum asked
    assert plan("How much did A and B pay in total?", "A paid £3 million [1].") is None
    # a valuation is no part of the money raised
    raised = "Larkworks raised $20 million [1], at a $100 million valuation."
    assert plan("How much has Larkworks raised in total?", raised) is None


def test_the_model_s_own_total_right_or_wrong_is_taken_out_for_the_checks() -> None:
    right = "A paid £3 million and B paid £2 million, a total of £5 million [1]."
    found = plan("How much did A and B pay in total?", right)
    assert found is not None and "£5 million" not in found.checked and found.text() == "£5 million"
    # the total said first, then its parts
    staff = "Brightwater employs 1,200 people: 800 people in Leeds and 400 people in York [1]."
    found = plan("How many people does Brightwater employ in total?", staff)
    assert found is not None and found.text() == "1,200 people"


def test_amounts_are_read_with_their_scale_and_a_plural_unit_only() -> None:
    found = plan("How much did they get between them?", "Ostrel got €2.1bn and Vellum €500m [1].")
    assert found is not None and found.text() == "€2.6 billion"
    homes = "Phase 1 built 40 homes and Phase 2 built 60 homes [1]."
    found = plan("How many homes were built in total?", homes)
    assert found is not None and found.text() == "100 homes"
    # only the sentence the checks verify gives parts
    two = "Ostrel got $2 billion [1]. It gave Vellum $900 million [1]."
    assert plan("How much did they get between them?", two) is None


def test_the_model_s_result_is_its_last_total_when_it_says_total_twice() -> None:
    found = plan(
        "Adding up its seed, Series A and Series B, how much has Larkworks raised?",
        "Larkworks raised a total of $4.2 million in its seed round, $31 million in its "
        "Series A and $88 million in its Series B, for a total of $163.2 million [1].",
    )
    assert found is not None and found.text() == "$123.2 million"
    assert "$4.2 million" in found.checked and "163.2" not in found.checked


def test_a_drop_asked_by_how_many_is_stated_by_a_sentence_s_from_and_to() -> None:
    sentence = "Its customers fell from 88,000 in 2017 to 51,000 at the end of 2023."
    (drop,) = figure_uses("They dropped by 37,000 [1].")
    (other,) = figure_uses("They dropped by 38,000 [1].")
    assert difference_stated(drop, sentence)
    assert not difference_stated(other, sentence)
    # years are no amounts: 2023 - 2017 does not state a drop of 6
    (six,) = figure_uses("They dropped by 6 [1].")
    assert not difference_stated(six, sentence)
    assert asks_difference("By how many did Corran's customers drop between 2017 and 2023?")
    q = "By how many did Corran's broadband customers in Halbrook drop between 2017 and 2023?"
    text = "Corran's broadband customers in Halbrook fell from 88,000 in 2017 to 51,000 in 2023."
    answer = "Corran's broadband customers in Halbrook dropped by 37,000 [1]."
    assert check_claim(answer, q, [Passage(1, "Fibre", "", text)], min_subject=0.2).stated


def test_a_total_of_several_is_not_the_figure_of_one_of_them() -> None:
    text = (
        "Quaymark Broadband and Skelter Networks had between them 11,200 customers on the "
        "network by the end of 2023."
    )
    passage = [Passage(1, "Fibre", "", text)]
    one = "How many customers does Skelter Networks have on the network?"
    assert not check_claim("Skelter Networks had 11,200 customers [1].", one, passage).stated
    both = "How many customers did Quaymark Broadband and Skelter Networks have on the network?"
    assert check_claim("They had 11,200 customers [1].", both, passage, min_subject=0.2).stated
    (use,) = figure_uses("Skelter Networks had 11,200 customers [1].")
    assert one_of_a_total(use, text, one) and not one_of_a_total(use, text, both)


def test_a_rise_in_total_from_one_level_to_another_is_a_difference_not_a_sum() -> None:
    q = "How much did the fare rise in total, from its 2021 level to the price allowed in 2024?"
    assert asks_difference(q)
    worked = plan(q, "The fare rose from $96 to $134 in total [1].")
    assert worked is not None and worked.operation == "difference"
    assert not asks_difference("How much did the fare rise to?")  # the new level, not a change


def test_a_total_of_numbered_ones_is_not_one_of_them() -> None:
    sentence = (
        "In 2024 the port handled 148 calls on two berths, Quay 3 and Quay 5, which "
        "together offer 610 metres of quay."
    )
    (berth,) = figure_uses("It offers 610 metres of quay [1].")
    assert one_of_a_total(berth, sentence, "How many metres of berth does Quay 3 offer?")
    assert not one_of_a_total(berth, sentence, "How many metres do Quays 3 and 5 offer together?")


def test_a_difference_no_source_can_state_is_no_invented_figure() -> None:
    from app.answer.checks import FiguresInSources
    from tests.support import answer_context, one_source

    text = (
        "Kestrel won the first tender with an offer of $19 a tonne to the quay, against the "
        "$27 a tonne the same journey cost by road."
    )
    source = [one_source(text, "Freight")]
    q = "By how much per tonne did Kestrel's bid undercut the cost by road?"
    check = FiguresInSources()
    assert check(answer_context(q, source, "It undercut the road by $8 per tonne [1].")) is None
    # not the difference of two of its figures, or not asked for one: invented
    assert check(answer_context(q, source, "It undercut the road by $6 per tonne [1]."))
    asked_price = "What did Kestrel offer per tonne?"
    assert check(answer_context(asked_price, source, "Kestrel offered $8 a tonne [1]."))


def test_a_difference_may_take_its_other_figure_from_the_sentence_beside() -> None:
    bids = Passage(
        1,
        "The ferry tender",
        "",
        "Dormund Werft offered 2.05 billion velts for the two ferries. The Haldvik yard "
        "offered 1.86 billion velts.",
    )
    q = "How much more than the Haldvik yard did Dormund Werft bid?"
    answer = "Dormund Werft bid 0.19 billion velts more than the Haldvik yard [1]."
    assert check_claim(answer, q, [bids], min_subject=0.2).stated
    wrong = "Dormund Werft bid 0.21 billion velts more than the Haldvik yard [1]."
    assert not check_claim(wrong, q, [bids], min_subject=0.2).stated


def test_a_figure_counts_the_thing_after_its_comparison_and_nothing_past_a_comma() -> None:
    def units(text: str) -> list[str | None]:
        return [u.unit for u in figure_uses(text)]

    counted = units("It delivered 270 fewer babies, 12 more midwives and 3 extra cots.")
    assert counted == [stem("babies"), stem("midwives"), stem("cots")]
    assert units("By 2023 the number had fallen to 870, partly because of the move.") == [
        None,
        None,
    ]
    # so "270 fewer babies" is the difference of 1,140 babies and the 870 after them
    ward = (
        "In 2019 it delivered 1,140 babies; by 2023 the number had fallen to 870, partly "
        "because fewer children are born in the district."
    )
    fewer = figure_uses("Castlebeck delivered 270 fewer babies in 2023 than in 2019 [1].")[0]
    assert difference_stated(fewer, ward)
    assert not difference_stated(figure_uses("It delivered 230 fewer babies.")[0], ward)


def test_words_that_count_the_same_people_state_the_same_figure() -> None:
    from app.answer.claims import figure_stated

    fans = figure_uses("20,874 fans watched the first game.")[0]
    assert figure_stated(fans, "They won in front of 20,874 supporters, a record.")
    assert figure_stated(fans, "A crowd of 20,874 people saw it.")
    assert not figure_stated(fans, "The club employs 20,874 staff.")  # not the same people
    assert not figure_stated(fans, "The stand used 20,874 tonnes of steel.")
    staff = figure_uses("It took on 7,300 employees.")[0]
    assert figure_stated(staff, "The new trust took on 7,300 staff across the two sites.")
