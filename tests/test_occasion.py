"""A figure stated for another year does not answer a question about this one.

The answer checks find a sentence that states the answer's figure about the question's
subject (tests/test_verify.py). These tests cover the step after it: a year the question
names must be the year of that sentence, or the answer is withheld. Texts are made up for
the tests.
"""

from __future__ import annotations

from app.answer.checks import ClaimStated, YearStated
from app.answer.occasion import Setting, asked_years, year_missing
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
