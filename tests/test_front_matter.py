"""Titles and metadata of real files: a date line, a byline, a link line, navigation and
share bars at the top are metadata or boilerplate, never the title and never a passage."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from app.answer.prompt import SourcePassage, format_source
from app.answer.service import RagService, labelled
from app.embedding import Embedder
from app.ingest.chunking import chunk_document
from app.ingest.front_matter import read_front_matter, reads_as_title
from app.ingest.loaders import load_file
from app.services.documents import DocumentService
from tests.support import make_settings

ROOT = Path(__file__).resolve().parent.parent
HELDOUT = ROOT / "data" / "heldout" / "articles"

BODY = (
    "The city council opened the new bridge over the Rell river on Monday. It is 240 metres "
    "long and cost 31 million euros, paid for by the regional transport fund.\n\n"
    "Traffic on the old crossing fell by a third in the first week, the council said."
)

TXT = f"""March 4, 2024
Home > City > Transport
New Rell bridge opens to traffic
By Anna Kovac, City Reporter
Share this article

{BODY}
"""

TXT_LINKS = f"""Original link: https://example.org/news/rell-bridge
Published: 2024-03-04
Table of Contents:
- Opening
- Traffic

The Rell bridge story
Words by Anna Kovac

{BODY}
"""

MD = f"""4 March 2024

News > Local

# New Rell bridge opens to traffic

*By Anna Kovac*

[Share this article] [Print] [Comments (3)]

{BODY}
"""

HTML = f"""<html><head><title>New Rell bridge opens to traffic | The Rell Courier</title></head>
<body><header><nav><ul><li><a href="/">Home</a></li><li><a href="/news">News</a></li></ul></nav>
<p>Home &gt; News &gt; Local</p></header>
<main><article><h1>New Rell bridge opens to traffic</h1>
<p class="byline">By Anna Kovac | Published 4 March 2024</p>
{"".join(f"<p>{p}</p>" for p in BODY.split(chr(10) + chr(10)))}
<p>Share this article: Email | Facebook | X</p>
</article><aside><h3>Related stories</h3><ul><li>Other news</li></ul></aside></main>
<footer><p>© 2024 The Rell Courier</p></footer></body></html>
"""

SHAPES = [
    (
        "bridge.txt",
        TXT,
        "New Rell bridge opens to traffic",
        "March 4, 2024",
        "Anna Kovac, City Reporter",
    ),
    ("links.txt", TXT_LINKS, "The Rell bridge story", "2024-03-04", "Anna Kovac"),
    ("bridge.md", MD, "New Rell bridge opens to traffic", "4 March 2024", "Anna Kovac"),
    ("bridge.html", HTML, "New Rell bridge opens to traffic", "4 March 2024", "Anna Kovac"),
]
HEADER_LINES = [
    "March 4, 2024",
    "4 March 2024",
    "Home >",
    "News >",
    "By Anna",
    "Words by",
    "Share this",
    "Original link",
    "Table of Contents",
    "- Opening",
    "Published",
    "Home",
]


@pytest.mark.parametrize(("name", "content", "title", "published", "author"), SHAPES)
def test_the_title_is_the_real_title_and_the_top_lines_are_metadata(
    tmp_path: Path,
    embedder: Embedder,
    name: str,
    content: str,
    title: str,
    published: str,
    author: str,
) -> None:
    p = tmp_path / name
    p.write_text(content, encoding="utf-8")
    doc = load_file(p)
    assert doc.title == title
    assert doc.published == published
    assert doc.author == author
    assert "opened the new bridge" in doc.text
    chunks = chunk_document(doc, embedder.count_tokens, embedder.split_tokens, 96, 16)
    assert chunks
    for c in chunks:
        assert doc.text[c.start : c.end] == c.text  # offsets stay exact
        for line in c.text.splitlines():
            assert not any(line.lstrip("#*[ ").startswith(h) for h in HEADER_LINES), line
    # the body starts the first chunk
    assert chunks[0].text.startswith("The city council opened")
    # the skipped spans are whole lines of the text
    for a, b in doc.skip:
        assert (a == 0 or doc.text[a - 1] == "\n") and (b == len(doc.text) or doc.text[b] == "\n")


@pytest.mark.unit
def test_plain_text_without_a_title_line_is_named_after_its_file(tmp_path: Path) -> None:
    p = tmp_path / "council-notes.txt"
    p.write_text("March 4, 2024\n\n" + BODY)
    doc = load_file(p)
    assert doc.title == "council-notes" and doc.published == "March 4, 2024"


@pytest.mark.unit
def test_a_first_line_of_prose_is_content_not_a_header(tmp_path: Path) -> None:
    fm = read_front_matter(BODY)
    assert fm.skip == [] and fm.title is None
    assert not reads_as_title("By the end of the day 23,400 people had used the new line.")


@pytest.mark.unit
@pytest.mark.parametrize(
    "line",
    [
        "March 4, 2024",
        "Tuesday, 4 March 2024",
        "Published: 2024-03-04",
        "By Anna Kovac",
        "Original link: https://example.org/a",
        "Home > News",
        "Table of Contents:",
        "Share this article",
    ],
)
def test_metadata_and_boilerplate_lines_never_read_as_titles(line: str) -> None:
    assert not reads_as_title(line)


@pytest.mark.unit
def test_the_held_out_articles_load_with_their_real_titles() -> None:
    dated = 0
    for path in sorted(HELDOUT.iterdir()):
        doc = load_file(path)
        assert reads_as_title(doc.title), (path.name, doc.title)
        assert not re.match(r"^(by |home|share|\w+ \d{1,2}, \d{4}$)", doc.title, re.I)
        assert len(doc.title.split()) >= 4, (path.name, doc.title)
        if doc.published:
            dated += 1
            at = doc.text.index(doc.published)  # its line is skipped: in no passage
            assert any(a <= at < b for a, b in doc.skip), (path.name, doc.skip)
    assert dated >= 4


def test_metadata_is_stored_listed_cited_and_labelled_for_the_model(
    tmp_path: Path, embedder: Embedder
) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "bridge.txt").write_text(TXT)
    service = RagService(make_settings(tmp_path), embedder=embedder)
    service.ingest([corpus])
    # reloaded from disk, as a restarted server sees it
    service.open_index()
    [rec] = service.snapshot.documents.values()
    assert (rec.title, rec.published, rec.author) == (
        "New Rell bridge opens to traffic",
        "March 4, 2024",
        "Anna Kovac, City Reporter",
    )
    assert all("March 4, 2024" not in c.text for c in service.snapshot.chunks)
    [info] = DocumentService(service.index).list_documents()
    assert info.published == "March 4, 2024" and info.author == "Anna Kovac, City Reporter"
    [hit, *_] = service.search("How long is the new bridge over the Rell?", 3)[0]
    assert hit.published == "March 4, 2024" and hit.author == "Anna Kovac, City Reporter"
    label, heading = labelled(rec, None)
    assert label == (
        "New Rell bridge opens to traffic (published March 4, 2024; by Anna Kovac, City Reporter)"
    )
    shown = format_source(SourcePassage(1, label, heading, service.snapshot.chunks[0].text))
    assert shown.startswith("[1] (New Rell bridge opens to traffic (published March 4, 2024")
    assert "\nThe city council opened" in shown


@pytest.mark.parametrize("content", ["Llamas are great", "March 4, 2024", "# Just a heading"])
def test_a_document_that_is_only_a_header_line_keeps_it_as_content(
    tmp_path: Path, embedder: Embedder, content: str
) -> None:
    p = tmp_path / "tiny.md"
    p.write_text(content)
    doc = load_file(p)
    assert doc.skip == []
    chunks = chunk_document(doc, embedder.count_tokens, embedder.split_tokens, 96, 16)
    assert chunks or content.startswith("#")  # a lone Markdown heading was never a passage


TEASERS = [
    "Read more: Why the glaciers of the north are shrinking faster",
    "Related: Hosepipe ban lifted as autumn rain returns | The plans explained",
    "Related stories: Dive operators count the cost of a hot summer",
    "See also: The price of a maths book",
    "© 2024 The Rell Courier. All rights reserved.",
    "Copyright 2024 The Rell Courier",
    "The Rell Courier 2024 - all rights reserved | Privacy | Contact",
]
PROSE = [
    "Related to this, the council voted to keep the old crossing open for bicycles.",
    "See also the council's report of 2023, which put the cost at 29 million euros.",
    "Copyright law changed in 2019, and the council's maps are now free to reuse.",
    "The treaty says all rights reserved to the state stay with it for fifty years.",
]


@pytest.mark.unit
@pytest.mark.parametrize(
    ("line", "skipped"), [(t, True) for t in TEASERS] + [(p, False) for p in PROSE]
)
def test_teasers_and_footers_are_in_no_passage_and_prose_that_opens_like_them_is(
    line: str, skipped: bool
) -> None:
    text = f"{TXT}\n{line}\n\nThe new bridge has two lanes and a cycle path.\n"
    fm = read_front_matter(text)
    at = text.index(line)
    assert any(a <= at < b for a, b in fm.skip) == skipped, line
    last = text.index("The new bridge has two lanes")
    assert not any(a <= last < b for a, b in fm.skip)
