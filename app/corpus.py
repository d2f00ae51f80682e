"""What a corpus is made of: documents and their chunks.

The bottom layer: ingest produces these and the vector store stores them, so both import
this module and neither imports the other.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field


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
    file_sha256: str | None = None  # of the file's bytes, when loaded from a file
    published: str | None = None  # the date line or byline date at the top, as written
    author: str | None = None  # from a byline ("By …") at the top
    # [start, end) spans of the text that are in no chunk: the leading metadata and
    # boilerplate lines (app.ingest.front_matter); the text itself stays whole
    skip: list[tuple[int, int]] = field(default_factory=list)
    # PDF pages: (page number from 1, start, end) spans of the text; empty for other formats
    pages: list[tuple[int, int, int]] = field(default_factory=list)

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

    def page_at(self, offset: int) -> tuple[int, int, int] | None:
        """The (page, start, end) of the page holding ``offset``; None without pages."""
        for page in self.pages:
            if page[1] <= offset < page[2]:
                return page
        return None


def doc_id_for(source: str) -> str:
    return hashlib.sha1(source.encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class Chunk:
    doc_id: str
    index: int
    start: int
    end: int
    text: str
    heading: str | None
    n_tokens: int
    page: int | None = None  # the PDF page the chunk is on (a chunk never spans two)

    @property
    def chunk_id(self) -> str:
        return f"{self.doc_id}:{self.index}"
