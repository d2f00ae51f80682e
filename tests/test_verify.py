"""The claim check: an answer must rest on one sentence that states it about the question's
subject. Each wrong-answer shape below is one a small model really produces."""

from __future__ import annotations

import pytest

from app.answer.arithmetic import difference_stated, one_of_a_total
from app.answer.claims import figure_uses, name_phrases, quantity_missing, question_parts
from app.answer.naming import last_named
from app.answer.occasion import date_units
from app.answer.verify import Passage, check_claim
from app.text.sentences import prose_sentences
from app.text.words import stem, with_same_sayings

pytestmark = pytest.mark.unit


PLANT = Passage(
    1,
    "Northfield recycling plant",
    "",
    "The Northfield plant opened in May 2021. It processes 12,000 tonnes of spent batteries "
    "a year and employs 140 people. About 42% of the lithium it recovers is sold to "
    "Vantor Cells, whose chief executive is Ana Ruiz. The plant was designed by the "
    "engineering firm Holm & Berg.",
)
MUSEUM = Passage(
    2,
    "Harbour Museum reopens",
    "",
    "March 3, 2024\nMaria Lopez, who chairs the city council, cut the ribbon. The museum's "
    "director, Tom Berg, led the four-year renovation, which cost $18 million.",
)


def stated(answer: str, question: str) -> bool:
    return check_claim(answer, question, [PLANT, MUSEUM]).stated


def holds(answer: str, question: str, *passages: Passage) -> bool:
    """Stated with the subject share the service uses (``RAGQA_CLAIM_MIN_SUBJECT``)."""
    return check_claim(answer, question, list(passages), min_subject=0.2).stated


def test_a_figure_stated_with_its_subject_and_unit_is_supported() -> None:
    check = check_claim(
        "The plant employs 140 people [1].", "How many people work at the plant?", [PLANT]
    )
    assert check.stated
    assert check.support[0].text.startswith("It processes 12,000 tonnes")


def test_a_figure_from_the_sources_reported_for_another_thing_is_not() -> None:
    assert not stated("The plant employs 12,000 people [1].", "How many people work at the plant?")


def test_a_percentage_read_as_a_count_is_not() -> None:
    q = "How many tonnes of lithium does the plant sell to Vantor Cells?"
    assert not stated("The plant sells 42 tonnes of lithium to Vantor Cells [1].", q)
    assert stated(
        "About 42% of the lithium it recovers [1].",
        "What share of its lithium goes to Vantor Cells?",
    )


def test_money_is_not_a_count() -> None:
    assert not stated(
        "The museum had 18 million visitors [2].", "How many visitors did the Harbour Museum have?"
    )
    assert stated(
        "The renovation cost $18 million [2].", "How much did the museum's renovation cost?"
    )


def test_a_name_in_a_role_the_sources_never_give_it_is_not() -> None:
    q = "Who is the director of the Harbour Museum?"
    assert not stated("Maria Lopez is the director of the Harbour Museum [2].", q)
    assert stated("Tom Berg is the museum's director [2].", q)


def test_the_date_line_is_not_the_date_of_the_events() -> None:
    assert not stated(
        "The renovation was finished on March 3, 2024 [2].", "When did the renovation start?"
    )


def test_a_sentence_that_refers_back_takes_its_subject_from_the_one_before() -> None:
    check = check_claim(
        "It processes 12,000 tonnes a year [1].",
        "How many tonnes of batteries does the plant process a year?",
        [PLANT],
    )
    assert check.stated


def test_an_answer_without_figures_or_names_needs_its_words_in_one_sentence() -> None:
    assert stated("It recycles spent batteries [1].", "What does the plant recycle?")
    assert not stated("It recycles old tyres [1].", "What does the plant recycle?")


def test_two_part_answers_may_rest_on_two_sentences() -> None:
    q = "When did the Northfield plant open, and how many people does it employ?"
    check = check_claim("It opened in May 2021 and employs 140 people [1].", q, [PLANT])
    assert check.stated and len(check.support) == 2


def test_a_two_part_answer_is_checked_in_its_second_sentence_too() -> None:
    """The second part is often answered in a second sentence: it is part of the claim;
    a closing sentence that only says where the answer is from is not."""
    q = "When did the Northfield plant open, and how many people does it employ?"
    right = "The plant opened in May 2021. It employs 140 people. This is stated in [1]."
    assert check_claim(right, q, [PLANT]).stated
    wrong = "The plant opened in May 2021. It employs 160 people. This is stated in [1]."
    check = check_claim(wrong, q, [PLANT])
    assert not check.stated and check.missing == ["160"]
    # a one-part question's claim is the first sentence, whatever follows it
    one = "When did the Northfield plant open?"
    assert check_claim("It opened in May 2021. It employs 160 people.", one, [PLANT]).stated


def test_sentences_keep_exact_spans_and_do_not_split_on_abbreviations() -> None:
    text = "Dr. Ana Ruiz spoke. The U.S. office opened.\nRow | 12 | 40%"
    spans = prose_sentences(text)
    assert [text[s.start : s.end] for s in spans] == [
        "Dr. Ana Ruiz spoke.",
        "The U.S. office opened.",
        "Row | 12 | 40%",
    ]


def test_a_figure_the_question_already_gives_is_no_claim_however_it_is_written() -> None:
    q = "What does a licence cost for the 6-billion-parameter model?"
    check = check_claim(
        "A licence for the 6-billion-parameter model costs $2 million [1].",
        q,
        [
            Passage(
                1,
                "Licences",
                "",
                "Its 6-billion-parameter model is licensed for $2 million a year.",
            )
        ],
    )
    assert check.stated


FERRIES = [
    Passage(
        1,
        "Solar ferries on the Tessel estuary",
        "",
        "Orrin Labs launched the first solar ferry on the estuary in 2019, two years ahead of "
        "Pellam Systems. The estuary's ferries carried 1.2 million people last year.",
    ),
    Passage(
        2,
        "Pellam Systems fleet",
        "",
        "Pellam Systems builds three boats. Its smallest boat, the Wren, carries 40 passengers. "
        "The Wren has a crew of 2.",
    ),
]


def test_a_two_hop_answer_rests_on_the_sentence_about_the_bridge() -> None:
    """The question names the builder only by a description; the sentence about the
    question names it (Pellam Systems), and the figure sits in a sentence about it."""
    question = (
        "How many passengers does the smallest boat of the company that Orrin Labs beat to "
        "the first solar ferry carry?"
    )
    # at the service's setting (RAGQA_CLAIM_MIN_SUBJECT 0.2): the first sentence shares a
    # third of the question's own subject words
    check = check_claim("The Wren carries 40 passengers [2].", question, FERRIES, min_subject=0.2)
    assert check.stated, check.detail
    texts = [s.text for s in check.support]
    assert any("40 passengers" in t for t in texts) and any(
        "Orrin Labs launched" in t for t in texts
    )


def test_the_second_hop_keeps_the_unit_and_needs_a_description() -> None:
    described = "How many cabins does the smallest boat of the company that Orrin Labs beat carry?"
    answer = "The Wren has 40 cabins [2]."
    assert not holds(answer, described, *FERRIES)  # the unit
    direct = "How many passengers does an Orrin Labs boat carry?"  # no description: no hop
    answer = "An Orrin Labs boat carries 40 passengers [2]."
    assert not holds(answer, direct, *FERRIES)


def test_the_key_claim_is_the_first_name_and_what_follows_it_is_not_required() -> None:
    """The model names the answer, then adds what it knows about it; the question asked
    for the firm, so the firm must be stated about the question, the additions need not."""
    question = "Which firm designed the Northfield plant?"
    answer = "Holm & Berg designed it, working with Ana Ruiz of Vantor Cells [1]."
    assert stated(answer, question)
    # the key name still needs a sentence about the question: Ana Ruiz chairs nothing
    assert not stated("Ana Ruiz chairs it [1].", "Who chairs the Northfield plant's board?")


def test_how_the_model_cites_is_not_part_of_its_claim() -> None:
    question = "What does the plant sell to Vantor Cells?"
    answer = "It sells lithium, as stated in [1]."
    assert stated(answer, question)
    assert not stated("It sells cobalt, as stated in [1].", question)


def test_the_first_figure_of_a_range_takes_its_unit_from_the_end_of_the_range() -> None:
    sizes = Passage(1, "Release notes", "", "The models range from 7B to 70B parameters.")
    question = "How many examples was the small model tuned on?"
    assert not check_claim("It was tuned on 7B examples [1].", question, [sizes]).stated
    question = "How many parameters do the smallest models have?"
    assert check_claim("The smallest has 7B parameters [1].", question, [sizes]).stated


def test_the_kind_of_figure_asked_is_checked_by_its_unit_not_by_the_wording() -> None:
    """ "Price" asked, "cost" written: the money unit is what says it is a price. And a
    sentence that shares only the word "cost" is not about the thing asked."""
    clinic = Passage(
        1,
        "Harlow clinic's east wing opens",
        "Paying for it",
        "The wing cost £9 million. Donors gave a further £300,000 for a garden.",
    )
    price = "What was the total price of the Harlow clinic's east wing?"
    assert holds("The east wing's price was £9 million [1].", price, clinic)
    trap = "How much did the solar panels on the east wing's roof cost?"
    assert not holds("The solar panels cost £9 million [1].", trap, clinic)
    # a count keeps its wording: "cost" is a subject word when the answer is not money
    count = "How many beds did the east wing's cost buy?"
    assert not holds("It bought 9 beds [1].", count, clinic)


def test_a_passage_is_read_with_the_byline_the_model_saw() -> None:
    """A press release says "the company" of its publisher, whom only the byline names:
    the check reads each passage with the label the prompt gave it (title, date, byline)."""
    from app.answer.checks import ClaimStated
    from tests.support import answer_context, one_source

    text = "Pia Lund, the company's head of safety, said the drills would go on."
    source = one_source(text, "Winter drills on the northern route", author="Skerry Ferries")
    question = "Who is the head of safety at Skerry Ferries?"
    answer = "Pia Lund is the head of safety at Skerry Ferries [1]."
    ctx = answer_context(question, [source], answer)
    assert ClaimStated()(ctx) is None  # stated: the byline names the company
    unsigned = source.model_copy(update={"author": None})
    ctx = answer_context(question, [unsigned], answer)
    assert ClaimStated()(ctx) is not None  # without it, nothing ties the sentence to the question


def test_a_pdf_sentence_wrapped_over_lines_is_one_sentence_and_table_rows_stay_apart() -> None:
    from app.answer.reading import split_sentences

    text = (
        "2. The founders\n"
        "Skellan Robotics was set up in 2019 by two engineers from the Port Varrow docks,\n"
        "Ines Calloway and her colleague Dr Omar\n"  # short: a line of its own, not run on
        "Bright, who had built cranes for twenty years before they started the business\n"
        "together in a rented shed. It employs 40 people.\n"
        "Cranes sold to the northern ports in the first full year 12 units\n"
        "Cranes sold to the southern ports in the first full year 9 units\n"
        "Northern ports (Skellan, Varrow, Greyhaven)  | 12 units | Delivered on time\n"
        "Southern ports (Marrow, Tessly, Hob's Point) | 9 units  | Delivered late\n"
    )
    sentences = [s.text for s in split_sentences(1, text)]
    assert not any("founders" in s and "Skellan" in s for s in sentences)  # a heading stays apart
    assert (
        "Skellan Robotics was set up in 2019 by two engineers from the Port Varrow docks,\n"
        "Ines Calloway and her colleague Dr Omar" in sentences
    )
    assert (
        "Bright, who had built cranes for twenty years before they started the business\n"
        "together in a rented shed." in sentences
    )
    assert "Cranes sold to the northern ports in the first full year 12 units" in sentences
    assert "Cranes sold to the southern ports in the first full year 9 units" in sentences
    assert sum("Delivered" in s for s in sentences) == 2  # rows of a text table, apart
    for s in split_sentences(1, text):
        assert text[s.start : s.end] == s.text


def test_a_sentence_that_starts_late_on_a_wrapped_line_is_kept_whole() -> None:
    from app.answer.reading import split_sentences

    # the line is long, though the part of it after the full stop is short
    text = (
        "The pumps are checked every week and the barriers every October. Ines Calloway,\n"
        "chief executive of the authority, said a second phase was being studied.\n"
    )
    sentences = [s.text for s in split_sentences(1, text)]
    assert sentences[-1] == (
        "Ines Calloway,\nchief executive of the authority, said a second phase was being studied."
    )


MILL = Passage(
    1,
    "Harlow town report 2024",
    "",
    "The old mill on Dock Street reopened as a library in March 2024. "
    "Turning the building into a library cost £3 million and took two years.",
)


def test_a_sentence_that_names_nothing_takes_its_subject_from_the_one_before() -> None:
    """ "Turning the building into…" is about what the sentence before names: like a
    sentence that opens with a pronoun, it is read with it."""
    q = "What did it cost to convert the Dock Street mill into a library?"
    check = check_claim("It cost £3 million [1].", q, [MILL], min_subject=0.2)
    assert check.stated and [s.text for s in check.support] == [
        "Turning the building into a library cost £3 million and took two years."
    ]
    # a sentence that names something stands on its own: the Dock Street subject is not
    # lent to a sentence about another place
    other = Passage(
        1, MILL.title, "", MILL.text.replace("Turning the building", "The Skellan pier")
    )
    assert not holds("It cost £3 million [1].", q, other)


def test_the_sentence_quoted_first_states_what_the_answer_opens_with() -> None:
    """An answer that adds where it read the fact ("… in 2024") rests on two sentences;
    the one stating its fact comes first, so it is the one its citation quotes."""
    q = "What did it cost to convert the Dock Street mill into a library?"
    answer = "Converting it cost £3 million, as the 2024 town report says [1]."
    check = check_claim(answer, q, [MILL], min_subject=0.2)
    assert check.stated and check.support[0].text.startswith("Turning the building")


def test_a_name_of_several_words_is_there_only_when_all_its_words_are() -> None:
    """The report's title says "Library"; the question asks about "Wexbury Central
    Library"; a sentence about another building's refit does not answer it, however much
    of the question's wording it shares."""
    report = Passage(
        1,
        "Ostwick County Library Service: annual report",
        "",
        "The Harrow Lane branch reopened in May after a refit. The Harrow Lane refit was "
        "designed by Pella Quint of Quint Marlow Architects, who kept the old oak shelving. Wexbury "
        "Central Library closed for six weeks while its roof was replaced.",
    )
    answer = "Quint Marlow Architects designed it [1]."
    q = "Who designed the new roof of Wexbury Central Library?"
    assert not holds(answer, q, report)
    # asked about the building whose refit the sentence describes, the same answer stands
    q = "Who designed the refit of the Harrow Lane branch library?"
    assert holds(answer, q, report)


def test_names_are_grouped_as_written() -> None:
    assert name_phrases("Who runs the University of Pellham's Wexbury Central Library?") == [
        frozenset({"university", "pellham"}),
        frozenset({"wexbury", "central", "library"}),
    ]


SHIP = Passage(
    3,
    "A new ferry for the Skerra crossing",
    "",
    "The Kittiwake Star will take over the Skerra crossing on 3 March 2025. Dunmore Yards "
    "built the Kittiwake Star and handed her to the operator on 9 January 2025. "
    "Orla Penhallow and Ivo Marsh founded the ferry company in 1998.",
)


def test_a_question_in_two_parts_has_each_part_answered_by_a_sentence_about_it() -> None:
    """ "…, and on what date …" is a second question: the date that answers it must come
    from a sentence about that part, not from the sentence that answered the first."""
    q = "Which yard built the Kittiwake Star, and from what date does she take over the crossing?"
    wrong = "Dunmore Yards built her. She takes over the crossing on 9 January 2025 [3]."
    right = "Dunmore Yards built her. She takes over the crossing on 3 March 2025 [3]."
    assert not holds(wrong, q, SHIP)
    assert holds(right, q, SHIP)


def test_who_did_it_is_asked_with_the_word_for_the_one_who_does_it() -> None:
    """ "founders" and "founded" are the same word to the check."""
    q = "Who are the founders of the ferry company?"
    answer = "Orla Penhallow and Ivo Marsh [3]."
    assert check_claim(answer, q, [SHIP], min_subject=0.5).stated
    assert stem("founders") == stem("founded") and stem("designer") == stem("designed")
    assert stem("water") != stem("wat")  # short words keep their ending


def test_a_question_is_split_where_it_asks_a_second_thing() -> None:
    assert question_parts("Who built it, and on what date did it sail?") == [
        "Who built it",
        "what date did it sail?",
    ]
    assert question_parts("How much did the ship cost and what did it replace?") == [
        "How much did the ship cost",
        "what did it replace?",
    ]
    assert question_parts("In what year was it built?") == ["In what year was it built?"]


def test_a_name_is_found_as_a_whole_word() -> None:
    """ "AI" is not in "said", while "Llama" is in "Llama-2" and "Meta" in "Meta's"."""
    yard = Passage(1, "Harbour news", "", "Tom Berg said the new boat was built by Fenwick.")
    q = "Which AI company built the new boat?"
    assert not check_claim("Fenwick built it [1].", q, [yard]).stated
    ai_yard = Passage(1, "Harbour news", "", "The AI firm Fenwick built the new boat.")
    assert check_claim("Fenwick built it [1].", q, [ai_yard]).stated
    model = Passage(1, "Model news", "", "Meta's Llama-2 model was trained on 2 trillion tokens.")
    q = "How many tokens was Meta's Llama trained on?"
    assert check_claim("2 trillion tokens [1].", q, [model]).stated


def test_a_question_that_asks_for_a_quantity_needs_one_in_the_answer() -> None:
    q = "What typical number of people does the plant employ?"
    assert not stated("The plant employs a typical staff of engineers [1].", q)
    assert not stated("The plant processes spent batteries [1].", "How many people work there?")
    assert stated("The plant employs 140 people [1].", q)
    assert not quantity_missing("Half of them [1].", "What share of its lithium is sold?")
    # "when" inside the question is not a question word: no quantity or date is asked
    assert check_claim(
        "The plant was designed by Holm & Berg [1].",
        "Which firm was hired when the plant was designed?",
        [PLANT],
    ).stated


def test_a_name_called_by_its_last_word_is_named_when_a_sentence_just_before_names_it() -> None:
    report = Passage(
        1,
        "Schools programme: progress report",
        "",
        "Dunley Academy opened to pupils in September. It replaced an older school. The academy "
        "was designed by Linden Marsh Architects. The new library was designed by Orrin Vale.",
    )
    q = "Which architects designed Dunley Academy?"
    assert holds("Linden Marsh Architects [1].", q, report)
    # the library is not the academy
    assert not holds("Orrin Vale [1].", q, report)
    # "the academy" is the last academy named before it, however far back
    far = Passage(
        1, report.title, "", report.text.replace("It replaced", "It is large. It replaced")
    )
    assert holds("Linden Marsh Architects [1].", q, far)
    other = Passage(
        1,
        report.title,
        "",
        report.text.replace(
            "It replaced an older school.", "Its sister, Kelso Academy, opened too."
        ),
    )
    assert not holds("Linden Marsh Architects [1].", q, other)


def test_the_thing_a_passage_calls_by_its_kind_is_the_last_one_its_document_named() -> None:
    # the passage opens on "the trust": the document before it says which trust that is
    chair = "The trust's chair since the merger has been Orla Fenwick, a former council leader."
    q = "Who chairs the Saltmarsh Health Trust?"
    merged = "Two trusts, the Ardle trust and the Kellby trust, became the Saltmarsh Health Trust. "
    assert holds("Orla Fenwick [1].", q, Passage(1, "Hospitals", "", chair, earlier=merged))
    before_merger = "The Saltmarsh Health Trust took over the Ardle trust. "
    assert not holds(
        "Orla Fenwick [1].", q, Passage(1, "Hospitals", "", chair, earlier=before_merger)
    )
    assert not holds("Orla Fenwick [1].", q, Passage(1, "Hospitals", "", chair))


def test_the_last_name_that_holds_a_word() -> None:
    text = "The Ardle trust merged into the Saltmarsh Health Trust. Since then the trust has grown."
    assert last_named("trust", text) == {"saltmarsh", "health", "trust"}
    assert last_named("cooperative", "members of the Salt Cooperative of Pellora") == {
        "salt",
        "cooperative",
        "pellora",
    }
    assert last_named("trust", "The trust met. The trust voted.") is None


def test_the_name_that_acts_in_the_question_must_be_the_one_that_acts_in_the_sentence() -> None:
    start_up = Passage(
        1,
        "Ternvale Orbital in orbit",
        "",
        "Ternvale Orbital was founded as a spin-off from the University of Caddis. In 2023 the "
        "company raised £6 million in a seed round led by Northmoor Ventures.",
    )
    q = "How much did the University of Caddis invest in Ternvale's seed round?"
    assert not holds("£6 million [1].", q, start_up)
    q = "How much money did the company raise in Ternvale Orbital's seed round?"
    assert holds("£6 million [1].", q, start_up)
    q = "How much did Ternvale Orbital raise in its seed round?"
    assert holds("£6 million [1].", q, start_up)


def test_a_count_is_not_answered_by_a_percentage() -> None:
    q = "How many tonnes of the lithium it recovers are sold to Vantor Cells?"
    assert not stated("About 42% of the lithium it recovers is sold to Vantor Cells [1].", q)
    assert stated(
        "About 42% of the lithium [1].", "What share of its lithium goes to Vantor Cells?"
    )
    assert stated(
        "About 42% [1].", "How many per cent of the lithium it recovers goes to Vantor Cells?"
    )


def test_a_name_in_another_post_does_not_answer_a_question_about_this_one() -> None:
    school = Passage(
        1,
        "Dunley Academy opens",
        "",
        "Dunley Academy is run by the Coastline Trust, whose chief executive is Dr Ama Osei. "
        "Its head teacher, Ben Hale, joined in March.",
    )
    q = "Which trust is Dr Ama Osei the head teacher of?"
    assert not holds("The Coastline Trust [1].", q, school)
    q = "Which trust is Dr Ama Osei the chief executive of?"
    assert holds("The Coastline Trust [1].", q, school)
    q = "Who is the head teacher of Dunley Academy, and which trust runs it?"
    answer = "Ben Hale [1]. It is run by the Coastline Trust [1]."
    assert holds(answer, q, school)


def test_a_question_that_asks_for_a_date_needs_one_in_the_answer() -> None:
    q = "On what date did the plant open?"
    assert quantity_missing("It opened in the spring [1].", q)
    assert quantity_missing("The plant opened after a market survey [1].", q)
    assert not quantity_missing("It opened in May 2021 [1].", q)
    assert not quantity_missing("It opened on a Monday in May [1].", q)
    assert not quantity_missing("It opened in the spring [1].", "When did the plant open?")


def test_a_date_answers_when_the_sentence_says_the_event_asked_about() -> None:
    news = Passage(
        1,
        "Vantor Cells news",
        "",
        "Vantor Cells has named Ana Ruiz its chief executive. She takes up the post on "
        "1 May 2024, after ten years at Holm & Berg.",
    )
    answer = "1 May 2024 [1]."
    q = "On what date did Ana Ruiz sign her contract with Vantor Cells?"
    assert not holds(answer, q, news)
    q = "On what date does Ana Ruiz take up her post at Vantor Cells?"
    assert holds(answer, q, news)


def test_began_or_started_does_not_say_which_event_a_date_is_of() -> None:
    reserve = Passage(
        1,
        "Harlow Trust: marsh reserve report",
        "",
        "The trust manages the marsh reserve under a 25-year agreement. "
        "Construction of the embankment started on 7 June 2022.",
    )
    answer = "It started on 7 June 2022 [1]."
    q = "When did the Harlow Trust's agreement start?"
    assert not holds(answer, q, reserve)
    q = "When did the Harlow Trust's construction work start?"
    assert holds(answer, q, reserve)


def test_the_question_s_subject_named_in_full_is_not_what_the_answer_claims() -> None:
    scheme = Passage(
        1,
        "Lower Lathe Flood Scheme completed",
        "",
        "The scheme was designed by Ferrand Lowe Engineering and built by Morrow and Kell.",
    )
    q = "Which engineering firm designed the Lower Lathe flood defences?"
    answer = "The Lower Lathe Flood Scheme was designed by Ferrand Lowe Engineering [1]."
    assert holds(answer, q, scheme)
    wrong = "The Lower Lathe Flood Scheme was designed by Harwood Partners [1]."
    assert not holds(wrong, q, scheme)


def test_irregular_verb_forms_and_the_owner_match_their_verb() -> None:
    assert stem("built") == stem("builds") == stem("building")
    assert stem("paid") == stem("pays") and stem("owner") == stem("owned")
    fleet = Passage(
        1,
        "Harlow Buses: the electric fleet",
        "",
        "All 40 are Volta single-deckers built by Wexley Coachworks in Ambergate.",
    )
    q = "Which manufacturer builds Harlow's battery buses?"
    assert holds("Wexley Coachworks [1].", q, fleet)


def test_a_sum_of_money_written_with_a_letter_is_the_same_sum() -> None:
    table = Passage(
        1,
        "Schools programme",
        "",
        "Project            Budget    Opens\nDunley Primary     £18.9m    September 2025\n",
    )
    q = "What is the budget for Dunley Primary?"
    assert holds("£18.9 million [1].", q, table)
    assert not holds("£18.9 billion [1].", q, table)
    ship = Passage(2, "Ferry news", "", "The Dunley ferry is 68 m long.")
    assert not check_claim("68 million [2].", "How long is the Dunley ferry?", [ship]).stated


def test_an_acronym_in_the_question_is_named_by_the_words_it_stands_for() -> None:
    coop = Passage(
        1,
        "Dairy results",
        "",
        "At the annual general meeting in July, 88% of the members who voted backed the plan.",
    )
    q = "What share of the votes at the AGM backed the plan?"
    assert holds("88% [1].", q, coop)
    q = "What share of the votes at the EGM backed the plan?"
    assert not holds("88% [1].", q, coop)


def test_a_thing_described_by_what_was_done_to_it_is_a_second_hop() -> None:
    bridge = Passage(
        1,
        "Orra Street Bridge reopens",
        "",
        "The Orra Street Bridge was designed by Josiah Penn and opened in 1881.",
    )
    dairy = Passage(
        2,
        "Dairy results",
        "",
        "Tankers had to detour while the Orra Street Bridge was shut, adding £210,000 to fuel "
        "and driver costs.",
    )
    q = "What extra fuel costs did the dairy face while the bridge designed by Josiah Penn was shut?"
    assert holds("£210,000 [2].", q, bridge, dairy)
    q = "What extra fuel costs did the dairy face while the bridge Josiah Penn liked was shut?"
    assert not holds("£210,000 [2].", q, bridge, dairy)


def test_a_question_with_two_when_parts_is_answered_by_a_dated_sentence_for_each() -> None:
    suit = Passage(
        1,
        "Scrivant v Larkworks: the patent case",
        "",
        "In November 2020 Scrivant took Larkworks to court over its punctuation patent. "
        "In April 2022 the court threw the claim out.",
    )
    q = "When did Scrivant take Larkworks to court, and when was the claim thrown out?"
    answer = "In November 2020. The claim was thrown out in April 2022 [1]."
    assert holds(answer, q, suit)
    wrong = "In November 2020. The claim was thrown out in May 2023 [1]."
    assert not holds(wrong, q, suit)


def test_a_light_verb_does_not_name_the_event_a_date_is_of() -> None:
    release = Passage(1, "Dictation", "", "Larkspur 1.0, released on 5 June 2018, was slow.")
    q = "When did Larkspur 1.0 come out?"
    assert holds("On 5 June 2018 [1].", q, release)
    q = "When was Larkspur 1.0 audited?"  # an event the sentence does not name
    assert not holds("On 5 June 2018 [1].", q, release)


def test_insolvency_is_the_state_of_the_insolvent() -> None:
    assert stem("insolvency") == stem("insolvent") and stem("currency") != stem("current")


def test_how_many_is_not_answered_with_money_nor_how_much_money_with_another_unit() -> None:
    wren = Passage(
        1,
        "The Wren Foundation",
        "",
        "The Wren Foundation has 14 founding members. Its top membership tier costs $250,000 "
        "a year. Zavor agreed to buy 6 GWh of cells a year from Vellum and invested $40 "
        "million in Vellum.",
    )
    q = "How many of the Wren Foundation's members pay for the top tier?"
    check = check_claim("They pay $250,000 a year [1].", q, [wren], min_subject=0.2)
    assert not check.stated and "sum of money" in check.detail
    assert check_claim(
        "It has 14 founding members [1].",
        "How many founding members does the Wren Foundation have?",
        [wren],
        min_subject=0.2,
    ).stated
    q = "How much did Zavor invest in Vellum?"
    check = check_claim("Zavor invested 6 GWh of cells a year [1].", q, [wren], min_subject=0.2)
    assert not check.stated and "how much money" in check.detail
    assert holds("Zavor invested $40 million [1].", q, wren)


def test_how_much_is_not_answered_with_a_bare_number() -> None:
    """Asked how much of a programme went on chargers, "40 of the programme" is a count of
    nothing; a sum, a share or a measure answers."""
    fleet = Passage(
        1,
        "Amberline's electric buses",
        "",
        "Amberline's electric bus programme cost £48 million. It has 40 buses and 74 "
        "chargers, and the chargers took 21% of the programme's budget.",
    )
    q = "How much of Amberline's electric bus programme went on chargers?"
    check = check_claim("40 of the programme went on chargers [1].", q, [fleet], min_subject=0.2)
    assert not check.stated and "bare number" in check.detail
    assert holds("21% of the programme's budget went on chargers [1].", q, fleet)
    asked = "How much did Amberline's electric bus programme cost?"
    assert holds("The programme cost £48 million [1].", asked, fleet)


def test_a_post_asked_for_a_person_must_be_given_to_that_person() -> None:
    firm = Passage(
        1,
        "Larkworks",
        "",
        "In his job at Larkworks, Tomasz Beleck is the chief operating officer. Priya "
        "Okonjo-Hale, an analyst at Marlowe Insight, follows the firm.",
    )
    q = "What is Priya Okonjo-Hale's job at Larkworks?"
    wrong = check_claim("She is the chief operating officer [1].", q, [firm], min_subject=0.2)
    assert not wrong.stated
    # her post is at another firm: the question asks about one she does not hold there
    # (app/answer/mismatch.py), so this is no answer to it either
    elsewhere = check_claim("She is an analyst at Marlowe Insight [1].", q, [firm], min_subject=0.2)
    assert not elsewhere.stated and "Marlowe Insight" in elsewhere.detail


def test_a_name_run_that_holds_an_asked_name_still_makes_the_claim() -> None:
    firm = Passage(
        1,
        "Larkworks news",
        "",
        "Larkworks appointed Tomas Reyes as chief executive; he joined from Brightwater.",
    )
    q = "Who is the chief executive of Larkworks?"
    wrong = "Larkworks Chief Executive Priya Okonjo-Hale joined from Brightwater [1]."
    assert not holds(wrong, q, firm)
    right = "Larkworks Chief Executive Tomas Reyes joined from Brightwater [1]."
    assert holds(right, q, firm)


def test_prose_typed_with_two_spaces_after_a_stop_is_no_table() -> None:
    text = (
        "Output at the plants rose in 2021.  Prices fell.  Demand grew.\n"
        "The Ostrel plant opened in 2019 under Zavor.  The Brede plant employs 900 people.  "
        "It is small.\n"
    )
    plants = Passage(1, "Battery plants", "", text)
    q = "How many people does the Ostrel plant employ?"
    answer = "The Ostrel plant employs 900 people [1]."
    assert not holds(answer, q, plants)


def test_take_over_names_an_event_though_take_place_does_not() -> None:
    deal = Passage(
        1,
        "Zavor Motors",
        "",
        "Zavor Motors signed a supply deal with Ostrel Cells in March 2018. "
        "The annual meeting took place on 3 May 2019.",
    )
    q = "When did Zavor Motors take over Ostrel Cells?"
    assert not holds("In March 2018 [1].", q, deal)


def test_how_much_money_is_not_answered_with_energy_but_may_be_in_any_currency() -> None:
    deal = Passage(
        1,
        "Zavor and Vellum",
        "",
        "Zavor agreed to buy 6 GWh of cells a year from Vellum and invested 2.1 billion "
        "dukats in Vellum.",
    )
    q = "How much did Zavor invest in Vellum?"
    assert not holds("Zavor invested 6 GWh of cells [1].", q, deal)
    assert holds("It invested 2.1 billion dukats [1].", q, deal)


def test_a_figure_in_a_clause_after_a_semicolon_belongs_to_that_clause_s_name() -> None:
    text = (
        "Besides Lekora there was Medora Generics from Ruvno; then the small family company "
        "Farmaval from Pessel; and Brenner-Hallam itself, which offered Corvel for 380 "
        "osmarks a pack."
    )
    passage = Passage(1, "Tender", "", text)
    q = "What price per pack did Farmaval offer in the tender?"
    assert not holds("Farmaval offered 380 osmarks a pack [1].", q, passage)
    q = "What price per pack did Brenner-Hallam offer for Corvel in the tender?"
    assert holds("Brenner-Hallam offered 380 osmarks a pack [1].", q, passage)


def test_a_clause_that_points_back_with_a_pronoun_is_read_with_the_one_before() -> None:
    text = (
        "Benedikt Sandqvist stepped down as chief executive of Orrery Labs in 2022; the "
        "board replaced him with Marguerite Osei-Tanner."
    )
    q = "Who took over from Benedikt Sandqvist as chief executive of Orrery Labs?"
    answer = "Marguerite Osei-Tanner took over as chief executive [1]."
    assert holds(answer, q, Passage(1, "Databases", "", text))


def test_a_part_that_only_asks_the_year_is_about_what_the_other_part_asks() -> None:
    text = "In 2013 Sandqvist and Farrelly founded Orrery Labs to sell support contracts."
    q = "Who founded Orrery Labs, and in what year?"
    answer = "Sandqvist and Farrelly founded Orrery Labs in 2013 [1]."
    assert holds(answer, q, Passage(1, "Databases", "", text))
    assert not holds(
        "Sandqvist and Farrelly founded Orrery Labs in 2014 [1].",
        q,
        Passage(1, "Databases", "", text),
    )


def test_asked_when_an_answer_without_a_date_gives_none() -> None:
    q = "When did Tellurion release its new storage engine?"
    assert quantity_missing("The most telling development came last year [4].", q)
    assert not quantity_missing("It came out in the autumn [1].", q)
    assert not quantity_missing("Tellurion released it in March 2024 [1].", q)
    assert not quantity_missing("It came out in 2024 [1].", q)
    # "when" inside a question asks for no date
    assert not quantity_missing(
        "The licence applies [1].", "Which licence applies when the code is sold?"
    )


def test_a_sum_of_money_does_not_state_a_count_of_the_same_figure() -> None:
    stadium = Passage(1, "Lathe Meadows", "", "The Lathe Meadows stadium cost £118 million.")
    q = "What is the capacity of the Lathe Meadows stadium?"
    assert not holds("The Lathe Meadows stadium holds 118 million seats [1].", q, stadium)
    q2 = "How much did the Lathe Meadows stadium cost?"
    assert holds("The Lathe Meadows stadium cost 118 million pounds [1].", q2, stadium)


def test_a_sentence_about_another_of_a_series_is_not_about_the_one_asked() -> None:
    text = (
        "Larkworks' seed round of $4.2 million, led by Pellucid Ventures, closed in 2019. "
        "Its Series B of $88 million was led by Osgood Partners."
    )
    rounds = Passage(1, "Larkworks", "", text)
    q = "How much did Pellucid Ventures put into the Larkworks Series B?"
    assert not holds("Pellucid Ventures invested $4.2 million in the Series B [1].", q, rounds)
    q2 = "How much did Larkworks raise in its Series B?"
    assert holds("Larkworks raised $88 million in its Series B [1].", q2, rounds)


def test_a_post_asked_at_an_organisation_needs_a_sentence_that_names_it() -> None:
    text = (
        "Lekora, the drug company, put it to me most clearly. Its head of information "
        "technology, Radek Vojtek, said Lekora sponsors Tellurion. The Commons Software "
        "Trust, which governs Tellurion, is chaired by Ines Marchetti-Lund."
    )
    trust = Passage(1, "Forks", "", text)
    q = "What position does Radek Vojtek hold at the Commons Software Trust?"
    answer = "Radek Vojtek is head of information technology at the Commons Software Trust [1]."
    assert not holds(answer, q, trust)
    q2 = "What position does Ines Marchetti-Lund hold at the Commons Software Trust?"
    assert holds("Ines Marchetti-Lund chairs the Commons Software Trust [1].", q2, trust)


def test_a_named_thing_with_a_that_clause_is_no_description_to_bridge_from() -> None:
    text = (
        "Larkworks' Series B of $88 million was announced in 2023. Larkworks' seed round of "
        "$4.2 million, led by Pellucid Ventures, closed in 2019."
    )
    rounds = Passage(1, "Larkworks", "", text)
    q = "Which investor led the Series B that Larkworks raised?"
    assert not holds("The Series B was led by Pellucid Ventures [1].", q, rounds)


def test_a_two_part_answer_in_words_may_rest_on_a_sentence_for_each_part() -> None:
    text = (
        "On the Castell Index, the monthly ranking of databases, Orrery stood ninth in 2020. "
        "Its licence changed twice. On the Castell Index Orrery had fallen to twelfth by the "
        "end of 2024."
    )
    ranks = Passage(1, "Databases", "", text)
    q = "Where did Orrery rank on the Castell Index in 2020, and where by the end of 2024?"
    answer = "Orrery ranked ninth on the Castell Index in 2020 and fell to twelfth by 2024 [1]."
    check = check_claim(answer, q, [ranks], min_subject=0.2)
    assert check.stated and len(check.support) == 2
    quoted = " ".join(s.text for s in check.support)
    assert "2020" in quoted and "2024" in quoted  # the year each part asks about


def test_british_and_american_spellings_and_a_deed_s_noun_match() -> None:
    assert stem("kilometres") == stem("kilometers") and stem("metre") == stem("meter")
    assert stem("privatised") == stem("privatized") and stem("flights") == stem("flying")
    canal = Passage(1, "Canals", "", "The Greywater Canal is 94 kilometres long.")
    assert holds(
        "The Greywater Canal is 94 kilometers long [1].", "How long is the Greywater Canal?", canal
    )
    moved = Passage(
        1,
        "Airlines",
        "",
        "Fellwing was given eleven slots, and on 26 October 2008 it moved its Carrowmere "
        "flights from Ashby Field to Kingsreach.",
    )
    q = "On what date did Fellwing start flying its Carrowmere service into Kingsreach?"
    assert holds("Fellwing started flying into Kingsreach on 26 October 2008 [1].", q, moved)


def test_the_date_of_an_event_comes_from_a_sentence_that_says_the_event_itself() -> None:
    text = (
        "In March 2024 Pellam offered $118 million for the whole of Fellwing. It now pays its "
        "pilots 18% more than it did in 2021."
    )
    offer = Passage(1, "Airlines", "", text)
    q = "When did Pellam make its $118 million offer for Fellwing?"
    assert not holds("Pellam made its offer for Fellwing in 2021 [1].", q, offer)
    assert holds("Pellam made its offer for Fellwing in March 2024 [1].", q, offer)


def test_a_post_asked_for_a_named_person_comes_from_a_sentence_that_names_them() -> None:
    text = (
        "Dermot Achterberg spoke for the airline. Fellwing signed an interline agreement in "
        "2010 with Pellam Air, whose former chief executive ran the slot office at Kingsreach."
    )
    q = "What is Dermot Achterberg's job at Pellam Air?"
    answer = "Dermot Achterberg is the former chief executive of Pellam Air, at Kingsreach [1]."
    assert not holds(answer, q, Passage(1, "Airlines", "", text))


def test_a_plural_compound_is_counted_in_its_last_part() -> None:
    locks = Passage(
        1,
        "Canal",
        "",
        "The Greywater Canal Authority found that 9 of its 14 locks need new gates.",
    )
    q = "How many lock-keepers does the Greywater Canal Authority employ?"
    assert not holds("The Greywater Canal Authority employs 14 lock-keepers [1].", q, locks)
    q2 = "How many locks does the Greywater Canal Authority run?"
    assert holds("The Greywater Canal Authority runs 14 locks [1].", q2, locks)


def test_the_sentence_with_the_year_the_question_names_is_chosen_first() -> None:
    text = (
        "The authority raised the bulk toll from $2.10 to $3.40 per tonne from 1 April 2024. "
        "After the ruling "
        "it charged $2.75 per tonne from 1 April 2025 and the full $3.40 from 1 April 2026."
    )
    tolls = Passage(1, "Canal", "", text)
    q = "What was the canal's bulk toll per tonne before the increase, and what will it be from April 2026?"
    check = check_claim(
        "It was $2.10, and it will be $3.40 from April 2026 [1].", q, [tolls], min_subject=0.2
    )
    assert check.stated and any("2026" in s.text for s in check.support)


def test_only_the_figures_after_a_reversed_paying_verb_are_not_stated() -> None:
    q = "How much does Carrowmere Airport pay Fellwing for each passenger?"
    both = Passage(
        1,
        "Airlines",
        "",
        "Carrowmere Airport pays Fellwing $14 for each passenger, and Fellwing pays "
        "Carrowmere Airport a $2 fee.",
    )
    assert holds("Carrowmere Airport pays Fellwing $14 for each passenger [1].", q, both)
    assert not holds("Carrowmere Airport pays Fellwing $2 for each passenger [1].", q, both)


def test_when_opening_a_clause_is_no_question_for_a_date_and_to_fall_is_no_season() -> None:
    q = "When Fellwing lost its Kingsreach slots, how many did it have?"
    assert not quantity_missing("It had eleven slots [1].", q)
    assert quantity_missing("Sales began to fall after the recall [1].", "When did sales fall?")
    assert not quantity_missing("Sales fell in the fall [1].", "When did sales fall?")


def test_a_difference_is_of_two_figures_of_one_kind() -> None:
    (twenty,) = figure_uses("They fell by 20 [1].")
    assert not difference_stated(twenty, "Corran had 30 staff and 50 stores in 2023.")
    assert difference_stated(twenty, "Corran's stores fell from 50 to 30.")


def test_a_figure_inside_a_larger_one_is_not_that_one() -> None:
    text = "Skelter had 1,200 customers in 2023, and Quaymark and Skelter had between them 11,200."
    (use,) = figure_uses("Skelter had 1,200 customers [1].")
    assert not one_of_a_total(use, text, "How many customers did Skelter have in 2023?")


def test_a_clause_that_opens_with_a_name_is_cut_even_with_its_in_it() -> None:
    text = (
        "Medora Generics offered Corvel for 410 osmarks a pack; Farmaval offered its own "
        "generic for 380 osmarks a pack."
    )
    tender = Passage(1, "Tender", "", text)
    q = "What price per pack did Medora Generics offer in the tender?"
    assert not holds("Medora Generics offered 380 osmarks a pack [1].", q, tender)
    assert holds("Medora Generics offered 410 osmarks a pack [1].", q, tender)


def test_the_name_that_acts_must_not_be_only_the_one_acted_on() -> None:
    text = (
        "In 2024 Brightmoor Cells cut its list price to 2,300 crowns per kilowatt-hour, a clear "
        "warning to Ostvale."
    )
    prices = Passage(1, "Cell makers", "", text)
    q = "What list price per kilowatt-hour does Ostvale charge?"
    assert not holds("Ostvale charges 2,300 crowns per kilowatt-hour [1].", q, prices)
    q = "What list price per kilowatt-hour does Brightmoor Cells charge?"
    assert holds("Brightmoor Cells charges 2,300 crowns per kilowatt-hour [1].", q, prices)
    # one who only reports the fact may be the one it is done to
    owed = Passage(
        1, "Dispute", "", "The mill, the letter says, owes to Ostvale 90 crowns a tonne."
    )
    q = "What fee did Ostvale say the mill owed it per tonne?"
    assert holds("Ostvale said the mill owed it 90 crowns a tonne [1].", q, owed)
    # a mention that opens a clause about the name is no deed done to it
    grid = Passage(
        1, "Grid", "", "The grid belonged to Ostvale, which sold it for 40 million crowns."
    )
    assert holds(
        "Ostvale sold it for 40 million crowns [1].",
        "For how much did Ostvale sell the grid?",
        grid,
    )
    # … also after a description of it: "sold control to Baylock, a fund …, which owns …"
    fund = Passage(
        1,
        "Rail",
        "",
        "In 2016 the managers sold control to Baylock Infrastructure, a fund based in "
        "Calderwick, which today owns 58% of the shares.",
    )
    q = "How big a stake does Baylock Infrastructure hold in the company?"
    assert holds("Baylock Infrastructure holds 58% of the shares [1].", q, fund)


def test_a_full_date_rests_on_a_sentence_that_gives_all_of_it_with_the_event() -> None:
    text = (
        "Tarnby Energy signed the contract to run the boiler house in 2021. It connected the "
        "first flats on 3 March 2021."
    )
    works = Passage(1, "Tarnby Energy", "", text)
    q = "When did Tarnby Energy sign the contract to run the boiler house?"
    # 2021 is in the sentence about the contract; 3 March 2021 is another event's date
    assert not holds("Tarnby Energy signed the contract on 3 March 2021 [1].", q, works)
    assert holds("Tarnby Energy signed the contract in 2021 [1].", q, works)


def test_a_total_given_between_them_further_from_its_figure_is_still_no_one_s_share() -> None:
    text = (
        "Tarnby Energy is also one of the choir's patrons: it and Brackwell Foundry, the firm "
        "that cast the bells, between them give the choir $80,000 a year."
    )
    patrons = Passage(1, "Patrons", "", text)
    q = "How much does Tarnby Energy give the choir each year?"
    assert not holds("Tarnby Energy gives the choir $80,000 a year [1].", q, patrons)


def test_an_answer_that_gives_a_shared_figure_does_not_answer_for_one() -> None:
    ferries = Passage(1, "Ferries", "", "In 2021 the crossing carried 1.1 million passengers.")
    q = "How many passengers used the crossing in 2021?"
    assert not holds(
        "The crossing and the island routes between them carried 1.1 million [1].", q, ferries
    )
    assert holds("The crossing carried 1.1 million passengers in 2021 [1].", q, ferries)
    # "together" after the figure compares; it does not share the figure
    slots = Passage(
        1, "Slots", "", "Pellam holds 46% of the slots, more than the next five put together."
    )
    q = "What share of the slots does Pellam hold?"
    assert holds(
        "Pellam holds 46% of the slots, more than the next five put together [1].", q, slots
    )


def essay(title: str, text: str) -> Passage:
    """One passage of an essay, numbered [1], with no section heading."""
    return Passage(1, title, "", text)


def test_a_thing_named_only_as_what_another_is_compared_with_is_not_its_subject() -> None:
    # the price is the electric bus's; the diesel bus is only what it is cheaper than
    depot = essay(
        "Harlow Buses goes electric",
        "Harlow Buses bought twelve electric buses this year. An Ellwood E12 costs £415,000, "
        "and the company expects it to be cheaper to run than a diesel bus over its life.",
    )
    q = "How much does Harlow Buses pay for a new diesel bus?"
    assert not holds("Harlow Buses pays £415,000 for a new diesel bus [1].", q, depot)
    assert holds(
        "An Ellwood E12 costs £415,000 [1].", "How much does an electric Ellwood E12 cost?", depot
    )


def test_names_and_words_with_diacritics_are_read_whole() -> None:
    from app.text.words import content_stems

    assert {"brůnov", "pokorná", "ștefănescu"} <= content_stems("Brůnov, Pokorná, Ștefănescu")
    assert frozenset({"ștefănescu"}) in name_phrases("Did it ask Ștefănescu at Brůnov?")
    town = essay(
        "A mine and its town",
        "The licence was signed in 2016. The mayor of Brůnov since 2022 is Věra Pokorná.",
    )
    assert holds("Věra Pokorná [1].", "Who has been the mayor of Brůnov since 2022?", town)


WATER = essay(
    "Every drop counted",
    "Dunmore Water supplies about 410,000 people through 2,900 kilometres of mains. "
    "The average household bill was $388 in 2021 and $431 in 2024, and the company's "
    "revenue reached $190 million in 2023. Its reservoir at Colbeck lies 600 metres from "
    "the nearest road. The Colbeck reservoir is 38 metres deep.",
)


def test_a_figure_for_another_measure_of_the_subject_does_not_answer() -> None:
    # people supplied are not people employed; a distance is no depth
    q = "How many people does Dunmore Water employ?"
    assert not holds("Dunmore Water employs about 410,000 people [1].", q, WATER)
    assert holds(
        "Dunmore Water supplies about 410,000 people [1].",
        "How many people does Dunmore Water supply?",
        WATER,
    )
    q = "How deep is the reservoir at Colbeck?"
    assert not holds("The reservoir at Colbeck is 600 metres deep [1].", q, WATER)
    assert holds("The reservoir at Colbeck is 38 metres deep [1].", q, WATER)


def test_a_figure_the_sentence_dates_with_another_year_is_not_the_asked_year_s() -> None:
    q = "What was the average household bill at Dunmore Water in 2023?"
    assert not holds("The average household bill in 2023 was $431 [1].", q, WATER)
    assert holds(
        "The average household bill in 2024 was $431 [1].",
        "What was the average household bill at Dunmore Water in 2024?",
        WATER,
    )


def test_a_total_shared_by_two_places_is_no_one_place_s_count() -> None:
    """ "Between them" may come a few words after its figure, and "fitters and drivers"
    is one kind of worker, not two parties the question asks about."""
    depots = essay(
        "Wheels for hire",
        "Cranby Bikes grew fast. Cranby's two depots, on Hill Street and at Dock Road, "
        "employed 90 fitters and drivers between them, and still could not keep up.",
    )
    q = "How many fitters and drivers worked at Cranby's Hill Street depot?"
    assert not holds("Cranby's Hill Street depot employed 90 fitters and drivers [1].", q, depots)
    q = "How many fitters and drivers did Cranby's two depots employ between them?"
    assert holds("They employed 90 fitters and drivers between them [1].", q, depots)


def test_a_count_of_another_thing_does_not_answer_how_many() -> None:
    stations = essay(
        "Bikes for the city",
        "By 2022 the scheme had grown to 2,650 bikes at 212 stations. Larkspur had 1,140 "
        "contributors by the end of 2023. The plant can make 48 GWh of cells a year.",
    )
    q = "How many docking points did the scheme's 212 stations have in total?"
    assert not holds("The 212 stations had a total of 2,650 bikes [1].", q, stations)
    q = "How many bikes did the scheme have in 2022?"
    assert holds("The scheme had 2,650 bikes in 2022 [1].", q, stations)
    # people are counted by any name for them; a measure by its abbreviation
    q = "How many people had contributed to Larkspur by the end of 2023?"
    assert holds("Larkspur had 1,140 contributors by the end of 2023 [1].", q, stations)
    q = "How many gigawatt-hours of cells a year can the plant make?"
    assert holds("The plant can make 48 GWh of cells a year [1].", q, stations)
    # the answer that counts the asked thing after another count still counts it
    ferry = essay("The new ferry", "The Gannet Rose can take 240 passengers and 36 cars.")
    q = "How many cars can the Gannet Rose take?"
    assert holds("The Gannet Rose can take 240 passengers and 36 cars [1].", q, ferry)


def test_a_rise_asked_with_went_up_is_a_difference_and_bust_is_bankrupt() -> None:
    water = essay(
        "Bills and bankruptcies",
        "The average household bill was $388 in 2021 and $431 in 2024. "
        "Cranby Bikes filed for bankruptcy on 9 October 2024.",
    )
    q = "How much did the average household bill go up between 2021 and 2024?"
    assert holds("It went up by $43, from $388 to $431 [1].", q, water)
    assert not holds("It went up by $53 [1].", q, water)
    q = "On what date did Cranby Bikes go bust?"
    assert holds("Cranby Bikes went bust on 9 October 2024 [1].", q, water)


def test_set_up_is_founded_and_a_minister_heads_a_ministry() -> None:
    town = essay(
        "What Cranby left behind",  # the title's words prove nothing about one sentence
        "The company behind it was Cranby, founded in 2015 by Declan Moss, a former "
        "courier. The ministry of industry, which was led at that time by Ilona Brandt, gave "
        "the licence to Keldor on 30 March 2016.",
    )
    assert holds("Declan Moss set it up [1].", "Who set up Cranby?", town)
    q = "Who was the industry minister when Keldor was given the licence?"
    assert holds("Ilona Brandt [1].", q, town)
    q = "Who was the industry secretary when Keldor was given the licence?"
    assert not holds("Ilona Brandt [1].", q, town)


def test_a_figure_from_two_sources_or_two_places_together_is_no_one_s_part() -> None:
    works = essay(
        "Runway and mine",
        "The works cost £27 million. The airport paid the remaining £19 million from its own "
        "funds and a bank loan. The mine and the plant employ together 1,140 people.",
    )
    q = "How much of the works was paid for with the bank loan?"
    assert not holds("£19 million was paid with the bank loan [1].", q, works)
    q = "How much did the airport pay from its own funds and a bank loan?"
    assert holds("The airport paid £19 million [1].", q, works)
    q = "How many people work at the plant, not counting the mine?"
    assert not holds("The plant employs 1,140 people [1].", q, works)


def test_a_figure_given_as_what_was_saved_is_not_what_was_needed() -> None:
    plant = essay(
        "Runway works",
        "The asphalt was mixed at a plant beside the runway, which saved some 2,600 lorry "
        "journeys through the city.",
    )
    q = "How many lorry journeys through the city did the runway works need?"
    assert not holds("The works needed about 2,600 lorry journeys [1].", q, plant)
    q = "How many lorry journeys through the city did the plant beside the runway save?"
    assert holds("It saved some 2,600 lorry journeys [1].", q, plant)


def test_a_heading_line_inside_a_passage_labels_the_text_and_states_nothing() -> None:
    # a chunk may hold a section heading; it is a label, so it is no sentence to rest on
    memo = essay(
        "Harbour papers",
        "The pier was rebuilt after the storm.\n\n## The Gannet memo of 2021\n\n"
        "It questioned whether the ferry had a future.",
    )
    assert not holds(
        "The Gannet memo was written in 2021.", "When was the Gannet memo written?", memo
    )
    dated = essay(
        "Harbour papers",
        "## The Gannet memo\n\nThe Gannet memo was written in 2021 by the harbour master.",
    )
    assert holds("The Gannet memo was written in 2021.", "When was the Gannet memo written?", dated)


def test_a_figure_the_sentence_gives_to_another_thing_of_its_kind_does_not_answer() -> None:
    # two shares in one sentence: the words around each say which is which
    survey = essay(
        "A survey of start-ups",
        "Brenholm Capital asked its start-ups about large models. It found that 65% had "
        "launched large-model apps and 94% were building on Corvane's model API.",
    )
    q = "What share of Brenholm Capital's start-ups were building on Corvane's API?"
    assert not holds("65% of them were building on Corvane's API [1].", q, survey)
    assert holds("94% of them were building on Corvane's API [1].", q, survey)
    # the sentence's opening is said of every figure after it, and "from … to" of both
    count = essay(
        "The Wren cores",
        "The foundation's count puts Wren cores shipped at 2 billion by the end of 2019 and "
        "11 billion by the end of 2023. In March 2021 it cut the Wren licence from $499 to $199.",
    )
    q = "How many Wren cores had been shipped by the end of 2023?"
    assert holds("11 billion Wren cores had been shipped by the end of 2023 [1].", q, count)
    q = "What did the Wren licence cost after the March 2021 price cut?"
    assert holds("It cost $199 after the cut [1].", q, count)


def test_one_of_a_series_asked_by_its_ordinal_is_not_answered_by_another_of_it() -> None:
    tenders = essay(
        "Generic drugs in Osmeria",
        "Lekora won the first corvalidine tender with 94 osmarks a pack. Medora won the "
        "second. In the third tender, in June 2023, Lekora took the contract back at 48 "
        "osmarks a pack.",
    )
    q = "At what price per pack did Lekora win the first corvalidine tender?"
    assert not holds(
        "Lekora won the first corvalidine tender at 48 osmarks a pack [1].", q, tenders
    )
    assert holds("Lekora won it at 94 osmarks a pack [1].", q, tenders)


def test_asked_who_holds_a_post_now_its_first_holder_does_not_answer() -> None:
    firm = essay(
        "Timber in Vardania",
        "The first chief executive of Bukkfa was Andrea Molnar, a lawyer. Her successor is "
        "Peter Szalai, who has led Bukkfa Timber since 2019.",
    )
    q = "Who heads Bukkfa Timber today?"
    assert not holds("Andrea Molnar heads Bukkfa Timber [1].", q, firm)
    assert holds("Peter Szalai heads Bukkfa Timber [1].", q, firm)
    # asked about the first one, the first one answers
    first = "Who was the first chief executive of Bukkfa?"
    assert holds("Andrea Molnar was the first chief executive of Bukkfa [1].", first, firm)


def test_asked_which_one_the_claim_is_the_sentence_that_names_it() -> None:
    # a first sentence that only restates the question names nothing: the citation must
    # point at the sentence that says which one
    evals = essay(
        "Chat models compared",
        "Human raters found that Corvane-Chat does at least as well as other open models. "
        "It comes out roughly level with Quillbot on those ratings.",
    )
    q = "Which chatbot do human raters put Corvane-Chat roughly level with?"
    answer = (
        "Human raters found that Corvane-Chat does at least as well as other open models [1]. "
        "It comes out roughly level with Quillbot on those ratings."
    )
    check = check_claim(answer, q, [evals], min_subject=0.2)
    assert check.stated and "Quillbot" in check.support[0].text


def test_a_sum_named_as_another_kind_of_money_does_not_answer() -> None:
    zoo = essay(
        "The zoo's year",
        "The zoo's income in 2024 was £14.2 million, 71% of it from admissions. An adult "
        "ticket costs £19.50.",
    )
    q = "How much is an adult admission ticket to the zoo?"
    assert not holds("An adult admission ticket costs £14.2 million [1].", q, zoo)
    assert holds("An adult ticket costs £19.50 [1].", q, zoo)
    # asked by a word for that kind of money, it answers
    assert holds("It took £14.2 million in 2024 [1].", "What was the zoo's income in 2024?", zoo)
    # an operating profit is no net profit
    rail = essay(
        "Freight", "Its revenue that year was $188 million and its operating profit $14.6 million."
    )
    q = "What was the company's net profit after tax that year?"
    assert not holds("Its net profit after tax was $14.6 million [1].", q, rail)
    q = "What was the company's operating profit that year?"
    assert holds("Its operating profit was $14.6 million [1].", q, rail)


def test_what_shut_closed() -> None:
    # the event a date question asks about may be written with a synonym of its verb; the
    # sentence says "it", so it is read as for an answer the model was sure of
    mill = essay(
        "Timber",
        "The old sawmill at Kovar had worked since 1921. On 30 June 2020 it closed for "
        "ever, and its last 310 workers lost their jobs.",
    )
    q = "When did the old sawmill at Kovar shut for good?"
    answer = "The old sawmill shut for good on 30 June 2020 [1]."
    assert check_claim(answer, q, [mill], min_subject=0.2, lenient=True).stated


def test_in_return_for_is_in_exchange_for() -> None:
    from app.text.words import content_stems

    # "will pay $55 million in return for priority berthing" answers what is given "in
    # exchange for berthing rights" (dev9 t016)
    said = content_stems("It will pay $55 million in return for priority berthing.")
    assert content_stems("in exchange for berthing rights") - {"right"} <= said


def test_a_two_part_answer_rests_on_any_two_sentences_that_together_state_it() -> None:
    # the two sentences that state most of it ("In March 2024 … 131 of the yes …" and
    # "On 9 March 2024 …") leave "62" out; the date's sentence and the result's state it all
    vote = essay(
        "Salt pans for a cable",
        "In March 2024 of the 214 members of the salt cooperative voted 193, and the 131 of "
        "the yes were just over two-thirds. On the 9 March 2024 the members of the salt "
        "cooperative voted on the lease in the school. The result was 131 votes in favour "
        "and 62 against.",
    )
    q = "On what date did the salt cooperative's members approve the lease, and how many voted yes?"
    check = check_claim(
        "The members approved the lease on 9 March 2024, with 131 votes in favour and 62 "
        "against [1].",
        q,
        [vote],
        min_subject=0.2,
    )
    assert check.stated
    assert [s.text[:14] for s in check.support] == ["On the 9 March", "The result was"]
    # a figure no sentence about the question states still withholds it
    assert not holds("They approved it on 9 March 2024, 131 to 71 [1].", q, vote)


def test_a_number_beside_a_date_is_no_day_of_it() -> None:
    # "15" of "15 megawatts" is not a day of November: the date is all in the first sentence
    auction = essay(
        "The Harrow Bank auction",
        "On 14 November 2023 the council announced the winner of the Harrow Bank auction, "
        "Tidewell Harrow. Tidewell Harrow plans 68 turbines of 15 megawatts each for the "
        "Harrow Bank wind farm.",
    )
    q = "When was the winner of the Harrow Bank auction announced, and how many turbines does the winner plan?"
    answer = "It was announced on 14 November 2023 [1]. The winner plans 68 turbines of 15 megawatts [1]."
    assert holds(answer, q, auction)
    assert date_units(["14", "2023", "november", "68", "15"], answer) == {"14", "2023", "november"}
    assert date_units(["9", "march", "2024", "131"], "on March 9, 2024, with 131 votes") == {
        "9",
        "march",
        "2024",
    }


def test_a_part_asking_only_when_it_ends_is_about_the_rest_of_the_question() -> None:
    forest = essay(
        "The Kovar forest",
        "In 2017 the government handed a harvesting concession in the Kovar forest to "
        "Bukkfa Timber. The ministry gave the concession on 14 March 2017, for 28,000 "
        "hectares and until the year 2047, to Bukkfa Timber of the Kovar forest.",
    )
    q = "On what date was the Kovar harvesting concession awarded, and in which year does it end?"
    assert holds("It was awarded on 14 March 2017, and it ends in 2047 [1].", q, forest)
    # the year must still be one a sentence about the concession gives
    assert not holds("It was awarded on 14 March 2017, and it ends in 2051 [1].", q, forest)


def test_who_runs_it_says_who_is_in_charge_of_it() -> None:
    # "runs", "heads", "leads", "director", "boss" say who is in charge of a thing
    library = essay(
        "The library service of Brenholm",
        "Brenholm has eleven branch libraries. Ingrid Halloway, Director of Libraries, runs "
        "the library service.",
    )
    q = "Who is in charge of Brenholm's library service?"
    assert holds("Ingrid Halloway is in charge of it [1].", q, library)
    assert with_same_sayings({stem("runs")}) >= {stem("charge"), stem("heads"), stem("led")}
    assert with_same_sayings({stem("library")}) == {stem("library")}


def test_who_owns_the_most_of_it_is_its_biggest_shareholder() -> None:
    # "owned … by", "owner", "stake" say who holds shares in a thing
    port = essay(
        "Kellby harbour",
        "Kellby Harbour is owned 70% by Tarrow Ports Fund and 30% by the county council.",
    )
    q = "Who is the biggest shareholder in Kellby Harbour?"
    assert holds("Tarrow Ports Fund [1].", q, port)
    assert with_same_sayings({stem("shareholder")}) >= {stem("owned"), stem("stake")}
    assert not with_same_sayings({stem("owned")}) & {stem("charge")}
