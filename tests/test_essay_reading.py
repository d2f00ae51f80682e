"""How the claim check reads long essays, where the thing a sentence is about was named
sentences earlier.

- A chunk cut from the middle of a paragraph may open with "It had 61,500 subscribers":
  for an answer the model was sure of, that sentence is read with its document's
  sentences just before the chunk, as a sentence inside a chunk is read with the one
  before it.
- An essay names a firm in full once ("Corran Telecom") and then by its first word
  ("Corran"). The short name counts only for an answer the model was sure of (see
  tests/test_certainty.py), only when the sources write that word alone as a name, and
  never when another of their names begins with it ("Sable Silicon", "Sable S7").
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from app.answer.checks import AnswerContext, ClaimStated, YearStated
from app.answer.verify import Passage, check_claim
from app.llm.token_scores import TokenScore
from tests.support import answer_context, one_source

pytestmark = pytest.mark.unit

LEAD = "By the end of 2023 Halbrook Fibre had laid 1,240 kilometres of cable."
CHUNK = "It had 61,500 subscribers of its own. Take-up was 43% of the homes passed."
ESSAY = (
    "Corran Telecom was the state telephone company. Most lines still belonged to Corran, "
    "which was privatised in 1997. Its chief executive, Ambrose Keetley, refused to build "
    "fibre there."
)


def test_a_chunk_opening_with_it_is_read_with_the_sentence_before_the_chunk() -> None:
    q = "How many subscribers of its own did Halbrook Fibre have?"
    answer = "Halbrook Fibre had 61,500 subscribers of its own [1]."
    led = Passage(1, "Fibre", "", CHUNK, before=(LEAD,))
    bare = Passage(1, "Fibre", "", CHUNK)
    assert not check_claim(answer, q, [bare], min_subject=0.2, lenient=True).stated
    check = check_claim(answer, q, [led], min_subject=0.2, lenient=True)
    assert check.stated and check.support[0].text.startswith("It had 61,500")
    # read strictly, the sentences before the chunk do not count (they let a trap of the
    # first held-out set through: docs/EVALUATION.md)
    assert not check_claim(answer, q, [led], min_subject=0.2).stated


def test_the_sentence_before_the_chunk_does_not_name_what_a_named_sentence_is_about() -> None:
    chunk = "Vellum Cells had 9,000 customers. It sold 2 GWh."
    q = "How many customers did Halbrook Fibre have?"
    passage = Passage(1, "Cells", "", chunk, before=(LEAD,))
    answer = "Halbrook Fibre had 9,000 customers [1]."
    assert not check_claim(answer, q, [passage], min_subject=0.2, lenient=True).stated


def _ctx(
    question: str, answer: str, source: str, certainty: float, lead: str = ""
) -> AnswerContext:
    """What the checks see: the model sure of every word of ``answer`` at ``certainty``,
    ``lead`` the document's sentence before ``source``."""
    scores = [TokenScore(w + " ", certainty) for w in answer.split(" ")]
    ctx = answer_context(question, [one_source(source, "An essay")], answer)
    return replace(ctx, leads=((lead,),), scores=scores)


def test_a_firm_is_named_by_its_short_name_when_the_model_was_sure() -> None:
    q = "In what year was Corran Telecom privatised?"
    answer = "Corran Telecom was privatised in 1997 [1]."
    check = ClaimStated(0.2, sure=0.9)
    assert check(_ctx(q, answer, ESSAY, certainty=0.99)) is None
    assert check(_ctx(q, answer, ESSAY, certainty=0.6)) is not None  # unsure: strict
    assert ClaimStated(0.2)(_ctx(q, answer, ESSAY, certainty=0.99)) is not None  # off


def test_a_short_name_shared_by_two_of_the_sources_names_names_neither() -> None:
    text = "Sable Silicon designs cores. The Sable S7 came out in 2019. Sable shipped 3.6 billion."
    q = "How many cores did Sable Silicon ship?"
    passage = Passage(1, "Cores", "", text)
    answer = "Sable Silicon shipped 3.6 billion cores [1]."
    assert not check_claim(answer, q, [passage], min_subject=0.2, lenient=True).stated


def test_the_year_a_chunk_opening_with_it_is_about_comes_from_the_sentence_before() -> None:
    q = "How many subscribers of its own did Halbrook Fibre have at the end of 2023?"
    answer = "Halbrook Fibre had 61,500 subscribers of its own [1]."
    ctx = _ctx(q, answer, CHUNK, certainty=0.99, lead=LEAD)
    assert ClaimStated(0.2, sure=0.9)(ctx) is None
    assert YearStated()(ctx) is None
    bare = _ctx(q, answer, CHUNK, certainty=0.99, lead="It grew fast.")
    assert ClaimStated(0.2, sure=0.9)(bare) is not None


ORRERY = (
    "In 2013 Sandqvist and Farrelly founded Orrery Labs to sell support. The company raised "
    "a Series A of $12 million in 2014, led by Fenwick Row Ventures. In 2017 it launched "
    "Orrery Cloud, and in July 2019 it raised a Series C at a valuation of $1.1 billion."
)


def test_a_sure_answer_is_read_back_through_the_company_and_a_fronted_it() -> None:
    q = "At what valuation did Orrery Labs raise its Series C?"
    answer = "Orrery Labs raised its Series C at a valuation of $1.1 billion [1]."
    passage = Passage(1, "Databases", "", ORRERY)
    assert not check_claim(answer, q, [passage], min_subject=0.2).stated
    assert check_claim(answer, q, [passage], min_subject=0.2, lenient=True).stated


def test_a_person_is_named_by_a_surname_the_sources_use_alone() -> None:
    text = (
        "Benedikt Sandqvist ran the firm for years. By 2022 the board of Orrery Labs wanted "
        "a change: Sandqvist stepped down as chief executive and was replaced by Marguerite "
        "Osei-Tanner."
    )
    q = "Who took over from Benedikt Sandqvist as chief executive of Orrery Labs?"
    answer = "Marguerite Osei-Tanner took over from Benedikt Sandqvist [1]."
    passage = Passage(1, "Databases", "", text)
    assert check_claim(answer, q, [passage], min_subject=0.2, lenient=True).stated


def test_the_fund_written_with_a_capital_is_the_fund_asked_about() -> None:
    text = "Prices fell. In 2023 the Fund spent only 410 million osmarks on corvalidine."
    q = "How much did the National Health Insurance Fund spend on corvalidine in 2023?"
    answer = "The National Health Insurance Fund spent 410 million osmarks in 2023 [1]."
    passage = Passage(1, "Generic drugs", "", text)
    assert not check_claim(answer, q, [passage], min_subject=0.2).stated
    assert check_claim(answer, q, [passage], min_subject=0.2, lenient=True).stated
    lower = Passage(1, "Generic drugs", "", text.replace("the Fund", "the fund"))
    assert not check_claim(answer, q, [lower], min_subject=0.2, lenient=True).stated


def test_a_sure_answer_may_take_its_subject_from_the_sentence_s_paragraph() -> None:
    # an essay names the firm once in a paragraph; the sentence with the fact does not
    text = (
        "The council set up a company, which trades as HalbrookNet, to lay fibre. Its "
        "prices were low.\n\nConstruction began in September 2017. The first customers "
        "were connected on 2 July 2018. HalbrookNet charged $55 a month.\n\nThen came Ostley. "
        "The first customers there were connected in 2021."
    )
    q = "When were HalbrookNet's first customers hooked up?"
    answer = "The first customers were hooked up on 2 July 2018 [1]."
    passage = Passage(1, "Fibre", "", text)
    assert not check_claim(answer, q, [passage], min_subject=0.2).stated
    check = check_claim(answer, q, [passage], min_subject=0.2, lenient=True)
    assert check.stated and check.support[0].text.startswith("The first customers were")
    # the paragraph about Ostley does not name HalbrookNet: its date is not HalbrookNet's
    wrong = "The first customers were hooked up in 2021 [1]."
    assert not check_claim(wrong, q, [passage], min_subject=0.2, lenient=True).stated


def test_a_chunk_that_opens_inside_a_paragraph_reads_it_on_from_before_the_chunk() -> None:
    lead = "In 2017 the city set up HalbrookNet to lay fibre."
    chunk = "The first managing director was Teodora Vance, an engineer from Corran."
    q = "Who was the first person to run HalbrookNet as managing director?"
    answer = "The first managing director of HalbrookNet was Teodora Vance [1]."
    led = Passage(1, "Fibre", "", chunk, before=(lead,))
    assert check_claim(answer, q, [led], min_subject=0.2, lenient=True).stated
    assert not check_claim(answer, q, [Passage(1, "Fibre", "", chunk)], lenient=True).stated


def test_a_sure_answer_reads_back_through_over_the_season_it() -> None:
    # the sentence before, in the paragraph before: its paragraph does not name Fellwing
    text = (
        "Fellwing cancelled flights by the dozen.\n\nOver the winter season it flew only 71% "
        "of its Kingsreach slots, well short of the 80% it needed."
    )
    q = "What proportion of its Kingsreach slots did Fellwing fly in the winter season?"
    answer = "Fellwing flew only 71% of its Kingsreach slots [1]."
    passage = Passage(1, "Airlines", "", text)
    assert not check_claim(answer, q, [passage], min_subject=0.2).stated
    assert check_claim(answer, q, [passage], min_subject=0.2, lenient=True).stated


def test_a_sentence_that_opens_with_a_post_may_take_the_country_from_its_paragraph() -> None:
    text = (
        "The government of Dorvania chose the side of the farmers. The Minister of "
        "Agriculture, Dănuț Oprescu, announced a law on farm-saved seed."
    )
    q = "Who is Dorvania's minister of agriculture?"
    answer = "Dorvania's minister of agriculture is Dănuț Oprescu [1]."
    passage = Passage(1, "Seeds", "", text)
    assert check_claim(answer, q, [passage], min_subject=0.2, lenient=True).stated
    other = Passage(1, "Seeds", "", text.replace("Dorvania", "Varesia"))
    assert not check_claim(answer, q, [other], min_subject=0.2, lenient=True).stated
