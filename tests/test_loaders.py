"""Loaders turn .txt, .md, .html and .pdf files into plain text; anything else is skipped."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from app.errors import UnsupportedDocument
from app.ingest.loaders import discover, load_file

pytestmark = pytest.mark.unit  # fast: no model, no server


def minimal_pdf(text: str) -> bytes:
    """A valid one-page PDF whose text layer says ``text`` (built by hand, no library)."""
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for off in offsets:
        out += b"%010d 00000 n \n" % off
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def test_markdown_keeps_title_and_headings(tmp_path: Path) -> None:
    p = tmp_path / "a.md"
    p.write_text("# The Title\n\nIntro text.\n\n## Section Two\n\nMore text here.\n")
    doc = load_file(p)
    assert doc.title == "The Title"
    assert [h.text for h in doc.headings] == ["The Title", "Section Two"]
    assert doc.heading_at(doc.text.index("More text")) == "Section Two"


def test_html_drops_scripts_and_styles(tmp_path: Path) -> None:
    p = tmp_path / "page.html"
    p.write_text(
        "<html><head><title>Page</title><style>body{color:red}</style></head><body>"
        "<h1>Heading</h1><script>alert('x')</script><p>Visible  paragraph.</p></body></html>"
    )
    doc = load_file(p)
    assert doc.title == "Page"
    assert "Visible paragraph." in doc.text
    assert "alert" not in doc.text and "color:red" not in doc.text
    assert doc.heading_at(doc.text.index("Visible")) == "Heading"


def test_pdf_text_is_extracted(tmp_path: Path) -> None:
    p = tmp_path / "paper.pdf"
    p.write_bytes(minimal_pdf("Llamas graze on the high Andean plateau every morning."))
    doc = load_file(p)
    assert "Andean plateau" in doc.text


def test_text_in_cp1252_is_decoded(tmp_path: Path) -> None:
    p = tmp_path / "old.txt"
    p.write_bytes("Caf\xe9 prices rose 5%.".encode("cp1252"))
    assert "Café" in load_file(p).text


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("binary.txt", b"\x00\x01\x02ELF\x00" * 100, "binary"),
        ("broken.pdf", b"%PDF-1.4 this is not really a pdf", "PDF"),
        ("empty.md", b"   \n\n", "no text"),
        ("program.exe", b"MZ\x90\x00", "unsupported"),
    ],
)
def test_bad_files_raise_a_clear_error(tmp_path: Path, name: str, data: bytes, reason: str) -> None:
    p = tmp_path / name
    p.write_bytes(data)
    with pytest.raises(UnsupportedDocument, match=reason):
        load_file(p)


def test_discover_walks_folders_and_warns_about_unsupported_files(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "a.md").write_text("# A\n\ntext")
    (tmp_path / "sub" / "b.txt").write_text("text")
    (tmp_path / "sub" / "c.docx").write_bytes(b"PK")
    (tmp_path / ".hidden").mkdir()
    (tmp_path / ".hidden" / "d.md").write_text("hidden")
    with caplog.at_level(logging.WARNING):
        found = [p.name for p in discover([tmp_path])]
    assert found == ["a.md", "b.txt"]
    assert "c.docx" in caplog.text


@pytest.mark.unit
def test_pdf_lines_broken_mid_sentence_are_joined_and_blocks_are_not() -> None:
    from app.ingest.pdf_text import unwrap_lines

    printed = (
        "Annual summary of the Harbour Works\n"
        "The new crane lifts 40 tonnes and its camera sees\n"
        "the quay at night. It cost EUR 2.1 million, of which the council paid a\n"
        "third.\n"
        "\n"
        "| Year | Tonnes |\n"
        "| 2023 | 1,200 |\n"
        "- first item\n"
        "- second item"
    )
    assert unwrap_lines(printed).split("\n") == [
        "Annual summary of the Harbour Works",  # a title line stays a line
        "The new crane lifts 40 tonnes and its camera sees the quay at night. It cost "
        "EUR 2.1 million, of which the council paid a third.",
        "",
        "| Year | Tonnes |",
        "| 2023 | 1,200 |",
        "- first item",
        "- second item",
    ]


@pytest.mark.unit
def test_evidence_written_with_a_printed_line_break_is_still_found() -> None:
    from app.evaluation.metrics import contains, locate

    text = "Kite sees the ground at a resolution of 4.8 metres."
    assert locate("sees\nthe ground", text) == (5, 20)
    assert contains(text, "resolution  of 4.8")
    assert not contains(text, "resolution of 4.9")
