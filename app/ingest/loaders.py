"""Turn files into plain-text documents.

Supported: .txt, .md/.markdown, .html/.htm (scripts and styles dropped) and .pdf (pypdf).
Anything else, or anything that cannot be decoded, raises :class:`UnsupportedDocument`
with the reason; :func:`discover` walks folders and reports skipped files as warnings.

The name picks the loader, and the content must agree with it: a text type must decode
as text (no NUL bytes, UTF-8/UTF-16 with BOM/cp1252, almost no control characters), so
images, executables and archives renamed ``.txt`` are refused, and archives are never
unpacked; a PDF renamed ``.md`` is refused; a ``.pdf`` must carry the PDF header. PDFs
over ``max_pdf_pages`` pages (:class:`TooLarge`), without extractable text, or whose text
does not decode (fonts with no Unicode map) are refused too.
"""

from __future__ import annotations

import hashlib
import logging
import re
import unicodedata
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from app.corpus import Document, Heading
from app.errors import TooLarge, UnsupportedDocument
from app.ingest.front_matter import read_front_matter
from app.ingest.pdf_text import unwrap_lines

log = logging.getLogger(__name__)

TEXT_SUFFIXES = {".txt", ".text"}
MARKDOWN_SUFFIXES = {".md", ".markdown"}
HTML_SUFFIXES = {".html", ".htm"}
PDF_SUFFIXES = {".pdf"}
SUPPORTED_SUFFIXES = TEXT_SUFFIXES | MARKDOWN_SUFFIXES | HTML_SUFFIXES | PDF_SUFFIXES
MAX_PDF_PAGES = 2000

_MD_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$", re.MULTILINE)


# Formats that begin like text but are not: refused whatever the file is called.
_TEXT_LOOKING_BINARIES = (
    (b"%PDF-", "a PDF document, not text; upload it with a .pdf name"),
    (b"{\\rtf", "an RTF document, not text"),
    (b"%!PS", "a PostScript file, not text"),
)
# C0/C1 control characters other than tab, newlines, form feed and escape
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0e-\x1a\x1c-\x1f\x7f-\x9f]")
MAX_CONTROL_SHARE = 0.02  # binary data decoded as cp1252 has about 12 % control characters
SNIFF_CHARS = 65536


def describe_content(data: bytes) -> str:
    """What ``data`` looks like, for error messages: a MIME type from its magic bytes."""
    import filetype

    head = data[:8192]
    kind = filetype.guess(head)
    if kind is None:
        return "binary data"
    if filetype.archive_match(head) is not None:
        return f"{kind.mime}, an archive (archives are not unpacked)"
    return str(kind.mime)


def _refuse_text_looking_binaries(data: bytes, name: str) -> None:
    head = data[:1024].lstrip(b"\xef\xbb\xbf \t\r\n")
    for magic, what in _TEXT_LOOKING_BINARIES:
        if head.startswith(magic):
            raise UnsupportedDocument(f"{name}: the content is {what}")


def _decode(data: bytes, path: Path) -> str:
    """Decode a text file, or refuse it when its content is not text."""
    name = path.name
    _refuse_text_looking_binaries(data, name)
    not_text = f"{name}: the content is {{}}, not text; upload .txt, .md, .html or .pdf files"
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):  # UTF-16 with its byte order mark
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise UnsupportedDocument(f"{name}: broken UTF-16 text ({exc.reason})") from exc
    elif b"\x00" in data[:8192]:
        raise UnsupportedDocument(not_text.format(describe_content(data)))
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            try:
                text = data.decode("cp1252")
            except UnicodeDecodeError as exc:
                raise UnsupportedDocument(
                    not_text.format(describe_content(data)) + " (neither UTF-8 nor cp1252)"
                ) from exc
    sample = text[:SNIFF_CHARS]
    if sample and len(_CONTROL_CHARS.findall(sample)) > MAX_CONTROL_SHARE * len(sample):
        raise UnsupportedDocument(not_text.format(describe_content(data)))
    return text


def _normalise(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = re.sub(r"[ \t\f\v]+\n", "\n", text)
    text = re.sub(r"\n{3,}", "\n\n", text)
    # drop control characters other than newline and tab
    text = re.sub(r"[\x00-\x08\x0b-\x1f\x7f]", "", text)
    return text.strip()


# what a loader returns: text, title (None: read it from the text), headings, PDF pages
Loaded = tuple[str, str | None, list[Heading], list[tuple[int, int, int]]]


def load_text(data: bytes, path: Path) -> Loaded:
    return _normalise(_decode(data, path)), None, [], []


def load_markdown(data: bytes, path: Path) -> Loaded:
    text = _normalise(_decode(data, path))
    headings = [
        Heading(m.start(), len(m.group(1)), m.group(2).strip()) for m in _MD_HEADING.finditer(text)
    ]
    title = next((h.text for h in headings if h.level == 1), None)
    return text, title, headings, []


# parts of a page that are not the article: menus, footers, sidebars
_HTML_CHROME = ["nav", "footer", "aside"]


def _site_suffix_removed(title: str) -> str:
    """ "Headline | Site Name" → "Headline" (the part after the last bar, when short)."""
    head, bar, tail = title.rpartition(" | ")
    return head.strip() if bar and head.strip() and len(tail.split()) <= 6 else title


def _words(s: str) -> str:
    return " ".join(re.findall(r"\w+", s.lower()))


# the elements whose text becomes a paragraph of an HTML document
_HTML_BLOCKS = [
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


def load_html(data: bytes, path: Path) -> Loaded:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(_decode(data, path), "html.parser")
    for tag in soup(["script", "style", "noscript", "template", "svg", "head"]):
        if tag.name == "head":
            continue
        tag.decompose()
    title_tag = soup.find("title")
    page_title = title_tag.get_text(" ", strip=True) if title_tag else ""
    body = soup.body or soup
    for tag in body.find_all(_HTML_CHROME):
        tag.decompose()
    # a site header (outside the article) holds the masthead and breadcrumbs
    for tag in body.find_all("header"):
        if tag.find_parent(["article", "main"]) is None and tag.find("h1") is None:
            tag.decompose()
    # Mark headings so we know where they are after text extraction.
    parts: list[str] = []
    headings: list[Heading] = []
    offset = 0
    blocks: list[Any] = list(body.find_all(_HTML_BLOCKS)) or [body]
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
    # the <title>, without the site's name after a bar; the headline itself when the
    # <title> is the headline plus more ("Headline - Site", "Site: Headline")
    h1 = next((h.text for h in headings if h.level == 1), None)
    title = _site_suffix_removed(page_title) if page_title else h1
    if h1 and page_title and _words(h1) in _words(page_title):
        title = h1
    return text, title, headings, []


def _undecodable_share(text: str) -> float:
    """Share of visible characters that are replacement, private-use or control characters:
    what text extraction yields from fonts that carry no Unicode map."""
    visible = [c for c in text if not c.isspace()]
    if not visible:
        return 0.0
    bad = sum(
        1
        for c in visible
        if c == "\ufffd" or "\ue000" <= c <= "\uf8ff" or unicodedata.category(c) == "Cc"
    )
    return bad / len(visible)


MAX_UNDECODABLE_SHARE = 0.3


def load_pdf(data: bytes, path: Path, max_pages: int = MAX_PDF_PAGES) -> Loaded:
    import io

    from pypdf import PdfReader
    from pypdf.errors import FileNotDecryptedError

    name = path.name
    if b"%PDF-" not in data[:1024]:
        looks = "text" if _looks_like_text(data) else describe_content(data)
        raise UnsupportedDocument(f"{name}: not a PDF (no %PDF- header; the content is {looks})")
    try:
        reader = PdfReader(io.BytesIO(data))
        n_pages = len(reader.pages)
        if n_pages > max_pages:
            raise TooLarge(
                f"{name}: {n_pages} pages is more than the {max_pages} allowed "
                "(RAGQA_MAX_PDF_PAGES)"
            )
        pages = [(page.extract_text() or "") for page in reader.pages]
        meta_title = (reader.metadata.title if reader.metadata else None) or ""
    except UnsupportedDocument:  # includes TooLarge
        raise
    except FileNotDecryptedError as exc:
        raise UnsupportedDocument(f"{name}: the PDF is encrypted; upload a decrypted copy") from exc
    except Exception as exc:  # any parser failure on untrusted bytes is a bad document
        reason = f"{type(exc).__name__}: {exc}"[:200]
        raise UnsupportedDocument(f"{name}: not a readable PDF ({reason})") from exc
    raw = "\n\n".join(pages)
    if _undecodable_share(raw) > MAX_UNDECODABLE_SHARE:
        raise UnsupportedDocument(
            f"{name}: the PDF's text cannot be decoded (its fonts have no Unicode map); "
            "convert it to text or run OCR first"
        )
    # each page normalised on its own and joined by a blank line, so every page has an
    # exact span of the text (and a page break is a paragraph break)
    parts: list[str] = []
    spans: list[tuple[int, int, int]] = []
    offset = 0
    for number, page_text in enumerate(pages, 1):
        clean = unwrap_lines(_normalise(page_text))
        if not clean:
            continue
        if parts:
            offset += 2
        spans.append((number, offset, offset + len(clean)))
        parts.append(clean)
        offset += len(clean)
    text = "\n\n".join(parts)
    if len(text) < 20:
        raise UnsupportedDocument(f"{name}: no extractable text (a scanned PDF needs OCR first)")
    title = str(meta_title).strip()
    return text, (title if _meaningful_pdf_title(title) else None), [], spans


def _meaningful_pdf_title(title: str) -> bool:
    """A PDF's metadata title, unless it is a placeholder or a file name."""
    t = title.strip().lower()
    if not t or t in {"untitled", "(unspecified)", "unknown", "title", "document", "none"}:
        return False
    return not re.search(r"\.(docx?|pdf|odt|rtf|txt|pptx?|tex|indd)$", t) and not t.startswith(
        "microsoft word - "
    )


def _looks_like_text(data: bytes) -> bool:
    try:
        _decode(data, Path("x"))
    except UnsupportedDocument:
        return False
    return True


def load_bytes(
    data: bytes, path: Path, source: str | None = None, *, max_pdf_pages: int = MAX_PDF_PAGES
) -> Document:
    """Load a document from bytes; the suffix of ``path`` picks the loader and the content
    must match it."""
    suffix = path.suffix.lower()
    loaded: Loaded
    if suffix in MARKDOWN_SUFFIXES:
        loaded = load_markdown(data, path)
    elif suffix in HTML_SUFFIXES:
        loaded = load_html(data, path)
    elif suffix in PDF_SUFFIXES:
        loaded = load_pdf(data, path, max_pdf_pages)
    elif suffix in TEXT_SUFFIXES:
        loaded = load_text(data, path)
    else:
        allowed = ", ".join(sorted(SUPPORTED_SUFFIXES))
        raise UnsupportedDocument(f"{path.name}: unsupported file type; supported: {allowed}")
    text, title, headings, pages = loaded
    if not text.strip():
        raise UnsupportedDocument(f"{path.name}: contains no text")
    doc = Document(source=source or str(path), title="", text=text, headings=headings, pages=pages)
    apply_front_matter(doc, title, fallback=path.stem)
    return doc


def apply_front_matter(doc: Document, title: str | None, fallback: str) -> None:
    """Set ``doc``'s title, ``published``, ``author`` and the spans chunking skips from
    the top of its text. ``title``: the format's own (HTML, PDF metadata, Markdown
    heading); without one, the first line of the text that reads as a title."""
    fm = read_front_matter(doc.text, title=title)
    doc.title = (title or fm.title or fallback).strip()[:200]
    doc.published, doc.author, doc.skip = fm.published, fm.author, fm.skip


def check_content(data: bytes, path: Path) -> None:
    """The content checks :func:`load_bytes` makes first, on the first bytes only: a
    quick refusal (a binary, an archive or a PDF under a text name; a ``.pdf`` without
    the PDF header) for an upload that is parsed later, in a job."""
    suffix = path.suffix.lower()
    if suffix in PDF_SUFFIXES:
        if b"%PDF-" not in data[:1024]:
            head = data[:SNIFF_CHARS]
            looks = "text" if _looks_like_text(head) else describe_content(data)
            raise UnsupportedDocument(
                f"{path.name}: not a PDF (no %PDF- header; the content is {looks})"
            )
        return
    if suffix in TEXT_SUFFIXES | MARKDOWN_SUFFIXES | HTML_SUFFIXES:
        head = data[:SNIFF_CHARS]
        if len(data) > SNIFF_CHARS:  # never cut a character in two
            if head[:2] in (b"\xff\xfe", b"\xfe\xff"):
                head = head[: len(head) // 2 * 2 - 2]
            else:
                while head and head[-1] & 0xC0 == 0x80:
                    head = head[:-1]
                if head and head[-1] >= 0xC0:
                    head = head[:-1]
        _decode(head, path)


def load_file(path: Path, *, max_pdf_pages: int = MAX_PDF_PAGES) -> Document:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UnsupportedDocument(f"{path}: cannot read ({exc.strerror})") from exc
    doc = load_bytes(data, path, source=str(path.resolve()), max_pdf_pages=max_pdf_pages)
    doc.file_sha256 = hashlib.sha256(data).hexdigest()
    return doc


def file_sha256(path: Path) -> str | None:
    """sha256 of a file's bytes (``None`` if it cannot be read): the cheap "unchanged" check."""
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


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
