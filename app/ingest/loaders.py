"""Turn files into plain-text documents.

Supported: .txt, .md/.markdown, .html/.htm (scripts and styles dropped) and .pdf (pypdf).
Anything else, or anything that cannot be decoded, raises :class:`UnsupportedDocument`
with the reason; :func:`discover` walks folders and reports skipped files as warnings.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.errors import UnsupportedDocument

log = logging.getLogger(__name__)

TEXT_SUFFIXES = {".txt", ".text"}
MARKDOWN_SUFFIXES = {".md", ".markdown"}
HTML_SUFFIXES = {".html", ".htm"}
PDF_SUFFIXES = {".pdf"}
SUPPORTED_SUFFIXES = TEXT_SUFFIXES | MARKDOWN_SUFFIXES | HTML_SUFFIXES | PDF_SUFFIXES
MAX_PDF_PAGES = 2000

_MD_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$", re.MULTILINE)


@dataclass(frozen=True)
class Heading:
    start: int  # character offset of the heading line in the document text
    level: int
    text: str


@dataclass
class Document:
    """A loaded document. ``text`` is what chunk offsets point into."""

    source: str
    title: str
    text: str
    headings: list[Heading] = field(default_factory=list)

    @property
    def doc_id(self) -> str:
        return doc_id_for(self.source)

    @property
    def content_hash(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()

    def heading_at(self, offset: int) -> str | None:
        current: str | None = None
        for h in self.headings:
            if h.start > offset:
                break
            current = h.text
        return current


def doc_id_for(source: str) -> str:
    return hashlib.sha1(source.encode("utf-8")).hexdigest()[:16]


def _decode(data: bytes, path: Path) -> str:
    if b"\x00" in data[:8192]:
        raise UnsupportedDocument(f"{path.name}: looks like a binary file, not text")
    for encoding in (
        ("utf-8-sig", "utf-16") if data[:2] in (b"\xff\xfe", b"\xfe\xff") else ("utf-8-sig",)
    ):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError as exc:
        raise UnsupportedDocument(f"{path.name}: cannot decode as UTF-8 or cp1252") from exc
    return text


def _normalise(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = re.sub(r"[ \t\f\v]+\n", "\n", text)
    text = re.sub(r"\n{3,}", "\n\n", text)
    # drop control characters other than newline and tab
    text = re.sub(r"[\x00-\x08\x0b-\x1f\x7f]", "", text)
    return text.strip()


def _first_line_title(text: str, fallback: str) -> str:
    for line in text.splitlines():
        line = line.strip().lstrip("#").strip()
        if line:
            return line[:200]
    return fallback


def load_text(data: bytes, path: Path) -> tuple[str, str, list[Heading]]:
    text = _normalise(_decode(data, path))
    return text, _first_line_title(text, path.stem), []


def load_markdown(data: bytes, path: Path) -> tuple[str, str, list[Heading]]:
    text = _normalise(_decode(data, path))
    headings = [
        Heading(m.start(), len(m.group(1)), m.group(2).strip()) for m in _MD_HEADING.finditer(text)
    ]
    title = next((h.text for h in headings if h.level == 1), None) or _first_line_title(
        text, path.stem
    )
    return text, title, headings


def load_html(data: bytes, path: Path) -> tuple[str, str, list[Heading]]:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(_decode(data, path), "html.parser")
    for tag in soup(["script", "style", "noscript", "template", "svg", "head"]):
        if tag.name == "head":
            continue
        tag.decompose()
    title_tag = soup.find("title")
    title = title_tag.get_text(" ", strip=True) if title_tag else ""
    body = soup.body or soup
    # Mark headings so we know where they are after text extraction.
    parts: list[str] = []
    headings: list[Heading] = []
    offset = 0
    block_tags = [
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "p",
        "li",
        "pre",
        "dt",
        "dd",
        "td",
        "th",
        "blockquote",
        "figcaption",
        "caption",
    ]
    blocks: list[Any] = list(body.find_all(block_tags)) or [body]
    seen: set[int] = set()
    for block in blocks:
        # skip blocks nested in an already-emitted block (e.g. <p> inside <li>)
        if any(id(parent) in seen for parent in block.parents):
            continue
        seen.add(id(block))
        content = re.sub(r"\s+", " ", block.get_text(" ", strip=True))
        content = re.sub(r"[\x00-\x08\x0b-\x1f\x7f]", "", content).strip()
        if not content:
            continue
        if block.name and re.fullmatch(r"h[1-6]", block.name):
            headings.append(Heading(offset, int(block.name[1]), content))
        parts.append(content)
        offset += len(content) + 2
    text = _normalise("\n\n".join(parts))
    if not title:
        title = next((h.text for h in headings), None) or _first_line_title(text, path.stem)
    return text, title, headings


def load_pdf(data: bytes, path: Path) -> tuple[str, str, list[Heading]]:
    import io

    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        n_pages = len(reader.pages)
        if n_pages > MAX_PDF_PAGES:
            raise UnsupportedDocument(
                f"{path.name}: {n_pages} pages is more than the {MAX_PDF_PAGES} allowed"
            )
        pages = [(page.extract_text() or "") for page in reader.pages]
        meta_title = (reader.metadata.title if reader.metadata else None) or ""
    except UnsupportedDocument:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as exc:
        raise UnsupportedDocument(f"{path.name}: not a readable PDF ({exc})") from exc
    text = _normalise("\n\n".join(pages))
    if len(text) < 20:
        raise UnsupportedDocument(
            f"{path.name}: no extractable text (a scanned PDF needs OCR first)"
        )
    title = str(meta_title).strip() or _first_line_title(text, path.stem)
    return text, title, []


def load_bytes(data: bytes, path: Path, source: str | None = None) -> Document:
    """Load a document from bytes; the suffix of ``path`` picks the loader."""
    suffix = path.suffix.lower()
    if suffix in MARKDOWN_SUFFIXES:
        text, title, headings = load_markdown(data, path)
    elif suffix in HTML_SUFFIXES:
        text, title, headings = load_html(data, path)
    elif suffix in PDF_SUFFIXES:
        text, title, headings = load_pdf(data, path)
    elif suffix in TEXT_SUFFIXES:
        text, title, headings = load_text(data, path)
    else:
        allowed = ", ".join(sorted(SUPPORTED_SUFFIXES))
        raise UnsupportedDocument(f"{path.name}: unsupported file type; supported: {allowed}")
    if not text.strip():
        raise UnsupportedDocument(f"{path.name}: contains no text")
    return Document(source=source or str(path), title=title, text=text, headings=headings)


def load_file(path: Path) -> Document:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UnsupportedDocument(f"{path}: cannot read ({exc.strerror})") from exc
    return load_bytes(data, path, source=str(path.resolve()))


def discover(paths: Iterable[Path]) -> Iterator[Path]:
    """Yield supported files under ``paths`` (folders walked recursively, sorted)."""
    for root in paths:
        if root.is_dir():
            for p in sorted(root.rglob("*")):
                if p.is_file() and not any(
                    part.startswith(".") for part in p.relative_to(root).parts
                ):
                    if p.suffix.lower() in SUPPORTED_SUFFIXES:
                        yield p
                    else:
                        log.warning("skipping %s: unsupported file type", p)
        elif root.is_file():
            yield root
        else:
            log.warning("skipping %s: no such file or folder", root)
