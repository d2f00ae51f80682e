"""Who holds a share: asked what share of one party another holds, the figure a sentence
gives as the first party's own holding does not answer."""

from __future__ import annotations

import pytest

from app.answer.claims import FigureUse, figure_uses
from app.answer.holdings import held_by_other, parties
from app.answer.verify import Passage, check_claim

pytestmark = pytest.mark.unit

VENTURE = (
    "The licence went to Northwake, a venture in which Pellmar Energy holds 60% and Ostrava "
    "Salt, the regional salt producer, holds the other 40%."
)


def share(text: str) -> FigureUse:
    return figure_uses(text)[0]


def test_the_parties_of_a_question_about_a_share() -> None:
    assert parties("What share of Ostrava Salt does Pellmar Energy own?") == (
        {"Pellmar", "Energy"},
        {"Ostrava", "Salt"},
    )
    assert parties("How big a stake does Harwick Capital hold in Tenby Rail today?") == (
        {"Harwick", "Capital"},
        {"Tenby", "Rail"},
    )
    assert parties("How many staff does Tenby Rail employ?") is None
    assert parties("What share of the market does Tenby Rail hold?") is None  # no named whole


def test_a_share_the_asked_about_party_holds_itself_does_not_answer() -> None:
    q = "What share of Ostrava Salt does Pellmar Energy own?"
    assert held_by_other(share("40%"), VENTURE, q)
    # the 60% is Pellmar's own: that it is held in Northwake is for the other checks
    assert not held_by_other(share("60%"), VENTURE, q)


def test_a_figure_written_before_its_verb_is_held_by_the_party_after_it() -> None:
    q = "What share of Brask Timber does Kelvo own?"
    assert held_by_other(share("55%"), "Of Kelvo, 55% of it owns Brask Timber, a sawmill group.", q)
    assert not held_by_other(share("55%"), "55% of it owns Kelvo, the forestry firm.", q)


def test_the_holder_named_before_the_verb_answers() -> None:
    q = "How big a stake does Harwick Capital hold in Tenby Rail?"
    sold = (
        "In 2016 the managers sold control of Tenby Rail to Harwick Capital, a fund based in "
        "Dunmore, which today owns 58% of the shares."
    )
    assert not held_by_other(share("58%"), sold, q)
    assert not held_by_other(share("58%"), "Tenby Rail is owned 58% by Harwick Capital.", q)


def test_the_claim_check_withholds_a_share_read_the_wrong_way_round() -> None:
    source = Passage(1, "Northwake wins the licence", "", VENTURE)
    q = "What share of Ostrava Salt does Pellmar Energy own?"
    assert not check_claim("Pellmar Energy owns 40% of Ostrava Salt [1].", q, [source]).stated
    q = "How big a stake does Ostrava Salt hold in Northwake?"
    assert check_claim("Ostrava Salt holds 40% of Northwake [1].", q, [source]).stated
