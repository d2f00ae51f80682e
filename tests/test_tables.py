"""Rows cut out of a text table are shown to the model under the table's header.

A passage that starts in the middle of a table gives figures without saying which column
they are in; the prompt puts the header back (the passage's span, and so its citation,
is unchanged). Texts are made up for the tests.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from app.answer.service import RagService
from app.embedding import Embedder
from app.llm.local import LocalLLM
from app.text.tables import missing_headers, row_read, shown_with_headers, table_header
from tests.support import make_settings

MARKDOWN = (
    "## Catch by boat\n"
    "\n"
    "| Boat        | Trips | Tonnes | Crew |\n"
    "|-------------|------:|-------:|-----:|\n"
    "| Grey Heron  | 41    | 220    | 4    |\n"
    "| Sea Lark    | 38    | 310    | 6    |\n"
    "| Tern        | 22    | 95     | 3    |\n"
    "\n"
    "The Sea Lark had the best year of the fleet.\n"
)
COLUMNS = (
    "LANDINGS BY HARBOUR, 2024\n"
    "\n"
    "  Harbour        Tonnes    Change on 2023   Boats\n"
    "  Port Varrow    1,240     +4%              12\n"
    "  Greyhaven        860     -2%               9\n"
    "  Skellan          410     n/a               5\n"
    "\n"
    "Skellan reopened its quay in May.\n"
)


def with_table_headers(document: str, start: int, text: str) -> str:
    """The passage as the prompt shows it."""
    return shown_with_headers(text, missing_headers(document, start, text))


def _from(document: str, first: str, length: int = 400) -> tuple[int, str]:
    start = document.index(first)
    return start, document[start : start + length]


@pytest.mark.unit
def test_markdown_rows_get_the_header_and_its_rule_back() -> None:
    start, text = _from(MARKDOWN, "| Sea Lark")
    shown = with_table_headers(MARKDOWN, start, text)
    assert shown.startswith(
        "| Boat        | Trips | Tonnes | Crew |\n"
        "|-------------|------:|-------:|-----:|\n"
        "| Sea Lark    | 38    | 310    | 6    |\n"
    )
    assert shown.endswith(text)  # everything else as it was, prose after the table too


@pytest.mark.unit
def test_rows_set_out_in_columns_get_their_header_line_back() -> None:
    start, text = _from(COLUMNS, "  Greyhaven")
    shown = with_table_headers(COLUMNS, start, text)
    assert shown.startswith("  Harbour        Tonnes    Change on 2023   Boats\n  Greyhaven")


@pytest.mark.unit
def test_a_passage_that_holds_the_header_or_no_table_is_left_alone() -> None:
    for document in (MARKDOWN, COLUMNS):
        assert with_table_headers(document, 0, document) == document
    start, text = _from(MARKDOWN, "The Sea Lark had")
    assert with_table_headers(MARKDOWN, start, text) == text
    # the header is given once per table, before the first row the passage holds
    start, text = _from(MARKDOWN, "| Grey Heron")
    assert with_table_headers(MARKDOWN, start, text).count("| Boat") == 1


@pytest.mark.unit
def test_the_header_is_found_only_for_table_rows() -> None:
    assert table_header(MARKDOWN, MARKDOWN.index("The Sea Lark")) is None
    assert table_header(MARKDOWN, MARKDOWN.index("| Boat")) is None  # the header itself
    top, header = table_header(COLUMNS, COLUMNS.index("  Skellan")) or (0, "")
    assert top == COLUMNS.index("  Harbour") and header.strip().startswith("Harbour")
    # a line of prose with one wide gap is not a row of a table
    prose = "Catch rose this year.  Prices fell.\nThe fleet grew."
    assert table_header(prose, 0) is None


def test_the_model_reads_a_row_from_deep_in_a_table_under_its_header(
    tmp_path: Path, embedder: Embedder, tiny_llm: LocalLLM
) -> None:
    """Real embedder, index and GGUF: a long table is cut into several chunks; the prompt
    shows the retrieved rows under the header, while the cited span is the chunk's own."""
    boats = ["Grey Heron", "Sea Lark", "Tern", "Kittiwake", "Fulmar", "Shag", "Gannet"]
    rows = [
        f"| {name} {n:02d} | {20 + n} | {100 + 7 * n} | {3 + n % 4} |"
        for n in range(60)
        for name in [boats[n % len(boats)]]
    ]
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "catch.md").write_text(
        "# Port Varrow catch by boat, 2024\n\n"
        "| Boat | Trips | Tonnes landed | Crew |\n|------|------:|-------:|-----:|\n"
        + "\n".join(rows)
        + "\n",
        encoding="utf-8",
    )
    service = RagService(make_settings(tmp_path), embedder=embedder, llm=tiny_llm)
    service.ingest([tmp_path / "docs"])
    question = "How many tonnes did the Shag 54 land?"
    hits, _ = service.retrieve(question, service.settings.top_k)
    deep = [h for h in hits if "| Shag 54 |" in h.chunk.text]
    assert deep and not deep[0].chunk.text.lstrip().startswith("| Boat")  # cut mid-table
    built, _ = service.build_prompt(tiny_llm, question, hits)
    shown = next(s.shown for s in built.sources if "| Shag 54 |" in s.text)
    assert shown.index("| Boat | Trips | Tonnes landed | Crew |") < shown.index("| Shag 54 |")
    assert shown in built.messages[-1]["content"]  # what the model reads
    answer = service.ask(question)
    cited = [s.text for s in answer.sources if "| Shag 54 |" in s.text]
    assert cited and all("| Boat |" not in text for text in cited)  # the span, unchanged


@pytest.mark.unit
def test_each_cell_of_a_row_is_read_with_the_name_of_its_column() -> None:
    assert row_read(MARKDOWN, MARKDOWN.index("| Sea Lark")) == [
        "Sea Lark Boat",
        "38 Trips",
        "310 Tonnes",
        "6 Crew",
    ]
    # columns set out by spaces: a figure set to the right still lies under its header
    assert row_read(COLUMNS, COLUMNS.index("Greyhaven")) == [
        "Greyhaven Harbour",
        "860 Tonnes",
        "-2% Change on 2023",
        "9 Boats",
    ]
    # the header itself, its rule and prose are no rows
    for line in ("| Boat", "|---", "The Sea Lark", "  Harbour"):
        doc = MARKDOWN if line != "  Harbour" else COLUMNS
        assert row_read(doc, doc.index(line)) is None


@pytest.mark.unit
def test_a_passage_cut_out_of_a_table_reads_its_rows_with_the_header_it_lost() -> None:
    start, text = _from(COLUMNS, "  Greyhaven")
    lost = missing_headers(COLUMNS, start, text)
    # without the lost header, the passage's first row would pass for the header
    assert row_read(text, text.index("Skellan"), lost) == [
        "Skellan Harbour",
        "410 Tonnes",
        "n/a Change on 2023",
        "5 Boats",
    ]


@pytest.mark.unit
def test_a_figure_from_a_table_is_stated_only_with_the_unit_of_its_column() -> None:
    from app.answer.verify import Passage, check_claim

    fleets = (
        "  Harbour        Tonnes    Boats   Quay opened\n"
        "  Port Varrow    1,240     12      June 1998\n"
        "  Greyhaven        860     9       March 2019\n"
    )
    passage = Passage(1, "Harbour report 2024", "", fleets)
    question = "How many boats does Greyhaven have?"
    # read bare, "9" runs on into "March"; read with its column, it is 9 boats
    assert check_claim("Greyhaven has 9 boats [1].", question, [passage]).stated
    # 860 is Greyhaven's tonnage, not its boats
    assert not check_claim("Greyhaven has 860 boats [1].", question, [passage]).stated


@pytest.mark.unit
def test_prose_with_two_spaces_after_each_stop_is_no_table_row() -> None:
    prose = (
        "Output at the plants rose in 2021.  Prices fell.  Demand grew.\n"
        "The Ostrel plant opened in 2019.  The Brede plant employs 900 people.  It is small.\n"
    )
    assert row_read(prose, prose.index("The Ostrel")) is None
    assert table_header(prose, prose.index("The Ostrel")) is None
