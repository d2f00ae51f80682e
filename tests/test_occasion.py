"""A figure stated for another year does not answer a question about this one.

The answer checks find a sentence that states the answer's figure about the question's
subject (tests/test_verify.py). These tests cover the step after it: a year the question
names must be the year of that sentence, or the answer is withheld. Texts are made up for
the tests.
"""

from __future__ import annotations

from app.answer.checks import ClaimStated, YearStated
from app.answer.occasion import Setting, asked_years, event_said, other_event, year_missing
from app.answer.verify import Passage, check_claim
from tests.support import answer_context, one_source


def test_the_years_a_question_names() -> None:
    asked = asked_years("How many visitors came in 2023-24, against 2021?")
    assert asked == [{"2023", "2024"}, {"2021"}]
    assert asked_years("How many of the 2,023 crates were lost?") == []
    assert asked_years("How many crates were lost in 12022 BC?") == []
    assert asked_years("How many crates were lost?") == []
    assert asked_years("In 2021, how many crates were lost?") == [{"2021"}]  # before a comma


def _setting(sentence: str, before: str = "", label: str = "Harbour news") -> Setting:
    return Setting(sentence, before, "", label)


def test_the_year_is_read_in_the_sentence_the_one_before_or_the_date_line() -> None:
    landed = "How many tonnes of fish did the Port Varrow boats land in 2022?"
    this_year = _setting("The boats landed 4,200 tonnes of fish this year.", label="Catch 2024")
    assert year_missing(landed, [this_year]) == "2022"
    that_year = _setting("The boats landed 4,200 tonnes of fish in 2022.", label="Catch 2024")
    assert year_missing(landed, [that_year]) is None
    before = _setting("They landed 4,200 tonnes.", before="In 2022 the boats stayed out late.")
    assert year_missing(landed, [before]) is None
    # the document's date line says what year "this year" is
    dated = _setting("The boats landed 4,200 tonnes of fish this year.", label="Catch | 2022")
    assert year_missing(landed, [dated]) is None
    # a season names both its years
    season = _setting("The boats landed 4,200 tonnes in the 2021-22 season.")
    assert year_missing(landed, [season]) is None
    # a question about a season or financial year is fitted by a sentence set in either year
    financial = "How many tonnes did the Port Varrow boats land in 2022-23?"
    ended = _setting("They landed 4,200 tonnes.", before="The year ended on 31 March 2023.")
    assert year_missing(financial, [ended]) is None
    assert year_missing(financial, [_setting("They landed 4,200 tonnes in 2021.")]) == "2022"
    assert year_missing(landed.replace("2022", "2021"), [season]) is None
    assert year_missing(landed.replace("2022", "2020"), [season]) == "2020"
    # one of two supporting sentences is enough; none at all is nothing to judge
    assert year_missing(landed, [this_year, that_year]) is None
    assert year_missing(landed, []) is None
    # a question without a year asks nothing of the sentence
    assert year_missing("How many tonnes did the boats land?", [this_year]) is None


def test_the_check_withholds_this_years_figure_given_for_another_year() -> None:
    text = (
        "Port Varrow's boats had a steady season. "
        "The fleet landed 4,200 tonnes of fish this year, most of it herring."
    )
    source = one_source(text, "Port Varrow catch report", published="2024-11-02")
    trap = "How many tonnes of fish did the Port Varrow fleet land in 2022?"
    answer = "The Port Varrow fleet landed 4,200 tonnes of fish in 2022 [1]."
    ctx = answer_context(trap, [source], answer)
    assert ClaimStated()(ctx) is None  # the figure, its unit and the subject are there…
    verdict = YearStated()(ctx)  # … but the sentence is about 2024, the date line says
    assert verdict is not None and "2022" in verdict.detail

    asked = trap.replace("2022", "2024")
    answer = "The Port Varrow fleet landed 4,200 tonnes of fish in 2024 [1]."
    ctx = answer_context(asked, [source], answer)
    assert ClaimStated()(ctx) is None
    assert YearStated()(ctx) is None


def test_a_difference_is_between_the_years_of_its_sentence_and_the_next() -> None:
    text = (
        "The salt pans of Salvarena had bad years. In 2019 the cooperative produced 201,000 "
        "tonnes of salt; in 2023 only 164,000 tonnes, after the storm took the eastern pans."
    )
    source = one_source(text, "Salt of Salvarena")
    asked = (
        "By how many tonnes did the Salvarena cooperative's salt output fall between 2019 and 2023?"
    )
    ctx = answer_context(asked, [source], "The output fell by 37,000 tonnes [1].")
    assert ClaimStated()(ctx) is None
    assert YearStated()(ctx) is None  # 2019 in one clause, 2023 in the next: both are read
    # a figure asked for one year is still read in its own clause alone
    one_year = "How many tonnes of salt did the Salvarena cooperative produce in 2023?"
    ctx = answer_context(one_year, [source], "It produced 201,000 tonnes of salt in 2023 [1].")
    assert ClaimStated()(ctx) is None
    verdict = YearStated()(ctx)
    assert verdict is not None and "2023" in verdict.detail


def test_asked_by_how_much_the_level_it_came_to_is_no_answer() -> None:
    text = (
        "Arle Valley Water lost 41 megalitres a day to leaks in 2021. By the end of 2024 "
        "its leakage was down to 33 megalitres a day."
    )
    source = one_source(text, "Every drop counted")
    asked = "By how much did Arle Valley Water cut its daily leakage between 2021 and 2024?"
    level = answer_context(
        asked, [source], "Arle Valley Water cut its leakage by 33 megalitres a day [1]."
    )
    verdict = ClaimStated()(level)
    assert verdict is not None and "level" in verdict.detail
    change = answer_context(
        asked, [source], "Arle Valley Water cut its leakage by 8 megalitres a day [1]."
    )
    assert ClaimStated()(change) is None  # the difference of 41 and 33, one sentence apart
    both = "It cut leakage from 41 to 33 megalitres a day [1]."  # ragqa works out the change
    assert ClaimStated()(answer_context(asked, [source], both)) is None


def test_that_year_is_the_year_the_sentence_before_names() -> None:
    text = (
        "Kestrel runs 46 locomotives from two depots. In 2023 it carried 3.4 million tonnes. "
        "Kestrel's revenue that year was $188 million and its operating profit $14.6 million. "
        "In 2024 Kestrel's revenue rose to $203 million, but its operating profit fell to "
        "$9.1 million."
    )
    source = one_source(text, "Heavy loads")
    asked = "By how much did Kestrel's operating profit fall between 2023 and 2024?"
    ctx = answer_context(asked, [source], "Kestrel's operating profit fell by $5.5 million [1].")
    assert ClaimStated()(ctx) is None
    assert YearStated()(ctx) is None  # "that year" is 2023
    other = "By how much did Kestrel's operating profit fall between 2022 and 2024?"
    ctx = answer_context(other, [source], "Kestrel's operating profit fell by $5.5 million [1].")
    assert ClaimStated()(ctx) is None
    verdict = YearStated()(ctx)
    assert verdict is not None and "2022" in verdict.detail


def test_the_event_a_question_asks_the_date_of_is_read_from_its_verb() -> None:
    assert {"approve", "approved", "authorised"} <= (
        event_said("On what date did the Corrant board approve the timetable?") or set()
    )
    assert "opened" in (event_said("When was the Tarrow plant opened?") or set())
    assert "entered" in (event_said("When did the yard enter restructuring?") or set())
    # the verb has its auxiliary's form: "building" before "work start" is no verb
    work = event_said("On what date did building work start on the new ward?") or set()
    assert "started" in work and "built" not in work
    # a passive names its verb after its subject, however long
    passive = "On what date was the last of the firm's twelve new electric locomotives delivered?"
    assert "delivered" in (event_said(passive) or set())
    assert event_said("On what date did the storm break the sea wall?") is None  # no such verb
    assert event_said("How many staff does Tarrow employ?") is None


def test_a_sentence_that_names_only_other_events_dates_none_asked() -> None:
    part = "On what date did Ostrava Salt join the Pellmar consortium?"
    assert other_event(part, "On 14 May 2023 the council announced the winner, Pellmar.")
    assert not other_event(part, "Ostrava Salt joined the consortium on 2 June 2023.")
    # telling a bidder it has lost dates no challenge of the result
    challenge = "On what date did Ferrow challenge the tender's result?"
    assert other_event(challenge, "On 2 May 2024 the board told Ferrow that it had lost.")
    # any form of a verb names its event: building a line is not opening it
    opened = "When did the Tarrow seed-cleaning line open?"
    assert other_event(opened, "In 2023 it exported more, and it is building a new line.")
    assert not other_event(opened, "The line, opening in 2023, doubled its capacity.")
    # becoming chief executive is taking up a post, as being appointed or elected is
    became = "In what year did Ada Lisle become chief executive of Tarrow Lines?"
    assert "appointed" in (event_said(became) or set())
    assert other_event(became, "Its chief executive, born in Ludmere, leads it from 2014.")
    assert not other_event(became, "Ada Lisle, born in Ludmere, became chief executive in 2014.")
    # a sentence that names no event by a verb may date any
    assert not other_event(part, "On 2 June 2023 voted the members of Ostrava Salt.")
    # a question without such a verb asks nothing of the sentence
    assert not other_event("In what year did the storm come?", "It was announced in 2014.")


def test_the_claim_check_withholds_the_date_of_another_event() -> None:
    part = "On what date did Ostrava Salt join the Pellmar consortium?"
    announced = Passage(
        1,
        "The Pellmar consortium",
        "",
        "On 14 May 2023 the council announced the winner: the Pellmar consortium, in which "
        "Ostrava Salt holds 35%.",
    )
    answer = "Ostrava Salt joined the Pellmar consortium on 14 May 2023 [1]."
    assert not check_claim(answer, part, [announced], min_subject=0.2).stated
    joined = Passage(
        1, announced.title, "", "Ostrava Salt joined the Pellmar consortium on 14 May 2023."
    )
    assert check_claim(answer, part, [joined], min_subject=0.2).stated
