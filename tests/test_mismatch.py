"""Answers that do not answer the question on their face (app/answer/mismatch.py).

Asked about something the sources never give, a small model answers with the nearest
thing they do give, and its own words show the swap. Each case below is one the bundled
model wrote for a trap question; each right answer beside it must still pass.
"""

from __future__ import annotations

import pytest

from app.answer.claims import claim_units
from app.answer.mismatch import contradiction, reversed_transfers

pytestmark = pytest.mark.unit


def transfer_reversed(question: str, sentence: str) -> bool:
    """Some paying verb of the sentence has the question's payee paying."""
    return any(rev for _, rev in reversed_transfers(question, sentence))


def why(answer: str, question: str) -> str:
    figs, names, _ = claim_units(answer, question)
    return contradiction(answer, question, figs, names)


def test_asked_who_an_answer_that_names_no_one_new_names_no_one() -> None:
    q = "Who took over from Teodora Vance as head of HalbrookNet?"
    assert "asks who" in why("Teodora Vance took over from her position in 2018 [1].", q)
    assert why("Imre Baptiste took over from Teodora Vance in 2018 [1].", q) == ""


def test_a_post_at_another_organisation_is_no_post_at_the_one_asked() -> None:
    q = "What is Gideon Thrale's job at HalbrookNet?"
    bad = "Gideon Thrale is an economist at the Pallister Institute, a research centre [1]."
    assert "Pallister Institute" in why(bad, q)
    assert why("Gideon Thrale is the chief engineer at HalbrookNet [1].", q) == ""
    q2 = "What does Miloš Tichý do at Lekora Pharma?"
    assert why("Miloš Tichý is an analyst at Hradby Investment Bank [1].", q2)
    assert why("Miloš Tichý is head of quality at Lekora [1].", q2) == ""  # its short name
    # the post at the place asked, then a past one elsewhere: no contradiction
    q3 = "What is Arthur Mensch's role at Mistral AI?"
    assert why("He is chief executive of Mistral AI, who worked at Google DeepMind [1].", q3) == ""


def test_a_part_larger_than_its_whole_is_no_part() -> None:
    q = "How many of Tellurion's 610 contributors are Halvard employees?"
    assert "larger than its whole" in why("14,000 of Tellurion's 610 contributors [1].", q)
    assert why("140 of Tellurion's 610 contributors work for Halvard [1].", q) == ""
    # scales, shares and rates are not parts of a count
    assert why("3.6 billion of the 11 billion cores were Sable designs [1].", q) == ""
    assert why("80% of the 20 staff are engineers [1].", "What share are engineers?") == ""
    assert why("$5 million of the $3 billion budget [1].", "How much went to roads?") == ""


def test_a_stake_or_share_is_not_answered_with_a_count_of_things() -> None:
    q = "How big a stake does Halvard hold in Orrery Labs?"
    assert "stake or share" in why("Halvard held about 14,000 paying customers [1].", q)
    assert why("Halvard holds 12% of Orrery Labs [1].", q) == ""
    assert why("Halvard holds a $40 million stake [1].", q) == ""
    share = "What proportion of HalbrookNet's revenue comes from business customers?"
    assert why("18% of HalbrookNet's revenue comes from business customers [1].", share) == ""


def test_asked_one_dimension_an_answer_in_another_does_not_answer() -> None:
    q = "How tall are the new concrete flood walls on the Lathe?"
    assert "height" in why("The new flood walls on the Lathe are 1.9 km long [1].", q)
    assert why("The new flood walls on the Lathe are 1.8 metres high [1].", q) == ""
    assert why("The walls reach a height of 1.8 metres [1].", q) == ""
    q2 = "How long is the new runway at Quarrendon?"
    assert "length" in why("The runway is 45 metres wide [1].", q2)
    assert why("The runway is 2,400 metres long [1].", q2) == ""


def test_asked_for_a_post_an_answer_that_gives_a_holding_does_not_answer() -> None:
    q = "What role does Benedikt Ashworth-Nkemelu have at the Westmarch Regional Bank?"
    bad = "Benedikt Ashworth-Nkemelu holds 72% of the shares in the Westmarch Regional Bank [4]."
    assert "holding" in why(bad, q)
    assert why("Benedikt Ashworth-Nkemelu is the chairman of the bank [1].", q) == ""
    # a stake asked for is answered by one
    assert why("Halvard holds 12% of Orrery Labs [1].", "How big a stake does Halvard hold?") == ""


def test_asked_what_one_pays_the_other_an_answer_about_a_charge_does_not_answer() -> None:
    q = "How much does Carrowmere Airport pay Fellwing for each departing passenger?"
    assert "charged" in why("Carrowmere Airport charges Fellwing $14 for every passenger [1].", q)
    assert why("Carrowmere Airport pays Fellwing $14 for every passenger [1].", q) == ""


def test_a_source_sentence_where_the_payee_pays_does_not_say_what_the_payer_pays() -> None:
    q = "How much did the cooperative have to pay Anselby in legal costs?"
    court = (
        "The High Court declared the seed the old variety and ordered Anselby to pay the "
        "costs of the cooperative, 3.8 million dorins."
    )
    assert transfer_reversed(q, court)
    assert not transfer_reversed(q, "The cooperative had to pay Anselby 3.8 million dorins.")
    q2 = "How much does Halvard give the Commons Software Trust each year?"
    assert not transfer_reversed(q2, "Halvard gives the Commons Software Trust $1.2 million.")
    q3 = "How much does the Commons Software Trust pay Halvard each year?"
    assert transfer_reversed(q3, "Halvard gives the Commons Software Trust $1.2 million.")
    # a question that names no payee is not read this way
    assert not transfer_reversed("How much does Amberline pay for a new bus?", court)


def test_the_paying_rules_read_who_does_what_not_just_the_words() -> None:
    q = "How much does Carrowmere Airport pay Fellwing a year?"
    # "billion" is no bill; the payee receiving is the question's own direction
    assert why("Carrowmere Airport pays Fellwing $1.2 billion a year [1].", q) == ""
    assert why("The sum is $1.2 billion a year [1].", q) == ""
    assert why("Fellwing receives $14 per passenger from Carrowmere Airport [1].", q) == ""
    # passive: the payee before "is paid … by" is the question's payee
    assert not transfer_reversed(q, "Fellwing is paid $14 per passenger by Carrowmere Airport.")


def test_an_answer_that_gives_the_dimension_asked_among_others_answers() -> None:
    q = "How wide is the Quarrendon runway?"
    assert why("The runway is 45 metres wide and 2,400 metres long [1].", q) == ""


def test_what_a_body_does_with_something_is_no_post() -> None:
    q = "What does the council do with the tourist levy?"
    assert why("The council spends 15% of the tourist levy on roads [1].", q) == ""


def test_who_buys_pays_and_who_sells_is_paid() -> None:
    q = "How much does Brackwell Foundry pay Tarnby Energy per megawatt-hour?"
    # Tarnby buys from Brackwell: Tarnby pays, so the sentence answers the converse
    assert [
        rev for _, rev in reversed_transfers(q, "Tarnby Energy buys the foundry's heat at $31.")
    ] == [True]
    assert [
        rev for _, rev in reversed_transfers(q, "Brackwell Foundry buys Tarnby's power at $40.")
    ] == [False]
    assert [
        rev
        for _, rev in reversed_transfers(q, "Brackwell Foundry sells Tarnby Energy heat at $31.")
    ] == [True]
    assert [rev for _, rev in reversed_transfers(q, "Tarnby Energy sold it power at $40.")] == [
        False
    ]


def test_a_person_asked_by_where_they_work_is_not_answered_by_someone_elsewhere() -> None:
    q = "Which Corvane scientist expects the model to catch up at coding?"
    wrong = "Nadia Holm, a machine learning scientist at Brightwell, expects it to catch up [1]."
    assert "post at Corvane" in why(wrong, q)
    assert not why("Ivo Marsh, a research scientist at Corvane, expects it to catch up [1].", q)
    # one name written two ways is one place
    q = "Which Hugging Face researcher said the model looks strong?"
    assert not why("Nadia Holm, a researcher at HuggingFace, said so [1].", q)


def test_paid_to_the_payer_asked_about_is_a_payment_the_other_way() -> None:
    from app.answer.mismatch import after_reversed

    q = "How much did Tessen Rail Network pay Kestrel for track access in 2023?"
    s = (
        "The largest bill the company pays is for the tracks: $31 million in 2023, paid to "
        "Tessen Rail Network at rates the network raised by 6%."
    )
    assert after_reversed(s, "$31 million", reversed_transfers(q, s))
    q = "How much did Kestrel pay Tessen Rail Network for track access in 2023?"
    assert not after_reversed(s, "$31 million", reversed_transfers(q, s))
