"""PDF pages: every passage of a PDF knows its page (and the page's span of the text), no
passage straddles two pages, and citations, the CLI and the API carry the page."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.answer.service import RagService
from app.api.app import create_app
from app.cli import source_lines
from app.embedding import Embedder
from app.ingest.chunking import chunk_document
from app.ingest.loaders import load_file
from tests.support import make_settings

FILLER = (
    "The committee met in the long room of the old customs house, as it has done every "
    "season since the building was restored, and the minutes of the meeting were read out "
    "and approved without change before the members turned to the business of the day. "
)
PAGES = [
    "Vostrand Observatory annual report. The observatory stands on the Hallen plateau, "
    "2,310 metres above sea level, and was founded in 1961.",
    "The observatory employs 48 staff, of whom 19 are astronomers. Its budget for the year "
    "was 6.4 million crowns, most of it from the national science council.",
    "The main telescope's primary mirror is 4.2 metres across and was recoated with "
    "aluminium in May. The recoating took eleven days and raised reflectivity to 91 percent.",
    "Public open nights drew 3,870 visitors over the year, and the new visitor centre will "
    "open in the spring of next year, the director said.",
]
QUESTION = "How wide is the primary mirror of the main telescope at Vostrand?"


def make_pdf(path: Path) -> None:
    """A real four-page PDF from reportlab: each page a fact and long filler paragraphs,
    the last paragraph of each page running on so passages would cross pages if allowed."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4)
    c.setTitle("Vostrand Observatory: Annual Report")
    c.setAuthor("Vostrand Observatory")
    for fact in PAGES:
        y = 800
        text = f"{fact} {FILLER * 3}"
        words = text.split()
        line: list[str] = []
        for word in words:
            if len(" ".join([*line, word])) > 90:
                c.drawString(50, y, " ".join(line))
                y -= 16
                line = []
            line.append(word)
        c.drawString(50, y, " ".join(line))
        c.showPage()
    c.save()
    path.write_bytes(buf.getvalue())


@pytest.fixture
def pdf(tmp_path: Path) -> Path:
    folder = tmp_path / "corpus"
    folder.mkdir()
    p = folder / "vostrand-report.pdf"
    make_pdf(p)
    return p


@pytest.mark.unit
def test_a_pdf_loads_with_its_pages_and_their_spans(pdf: Path) -> None:
    doc = load_file(pdf)
    assert doc.title == "Vostrand Observatory: Annual Report"
    assert [n for n, _, _ in doc.pages] == [1, 2, 3, 4]
    for (n, start, end), fact in zip(doc.pages, PAGES, strict=True):
        page_text = " ".join(doc.text[start:end].split())
        assert fact.split(".")[1 if n == 1 else 0].strip() in page_text, n
    assert doc.page_at(doc.text.index("4.2 metres"))[0] == 3  # type: ignore[index]


def test_no_chunk_straddles_a_page_boundary(pdf: Path, embedder: Embedder) -> None:
    doc = load_file(pdf)
    chunks = chunk_document(doc, embedder.count_tokens, embedder.split_tokens, 96, 16)
    assert {c.page for c in chunks} == {1, 2, 3, 4}
    spans = {n: (a, b) for n, a, b in doc.pages}
    for c in chunks:
        assert c.page is not None
        a, b = spans[c.page]
        assert a <= c.start and c.end <= b, (c.page, c.start, c.end, spans)
        assert doc.text[c.start : c.end] == c.text


def test_citations_carry_the_page_of_the_passage(
    pdf: Path, tmp_path: Path, embedder: Embedder
) -> None:
    (pdf.parent / "notes.txt").write_text(
        "Observatory notes\n\nThe car park by the observatory has 60 spaces for visitors.\n"
    )
    service = RagService(make_settings(tmp_path), embedder=embedder)
    service.ingest([pdf.parent])
    service.open_index()  # as a restarted server reads it
    passages, _ = service.search(QUESTION, 3)
    top = passages[0]
    assert "4.2 metres" in top.text and top.page == 3
    record = service.snapshot.documents[top.doc_id]
    start, end = record.page_span(3)  # type: ignore[misc]
    assert start <= top.start and top.end <= end
    other, _ = service.search("How many parking spaces are there for visitors?", 1)
    assert other[0].title == "Observatory notes" and other[0].page is None
    # the CLI's Sources lines
    lines = source_lines([top.model_copy(update={"cited": True})])
    assert lines[0] == "Sources:" and lines[1].endswith(", p. 3")
    # the API: citations and the document's pages
    with TestClient(create_app(service.settings, service)) as client:
        body = client.post("/api/retrieve", json={"question": QUESTION, "top_k": 3}).json()
        assert body["passages"][0]["page"] == 3
        doc = client.get(f"/api/documents/{top.doc_id}").json()
        assert [p["page"] for p in doc["pages"]] == [1, 2, 3, 4]
        third = doc["pages"][2]
        assert "4.2 metres" in doc["text"][third["start"] : third["end"]]
