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


@dataclass(frozen=True)
class Chunk:
    doc_id: str
    index: int
    start: int
    end: int
    text: str
    heading: str | None
    n_tokens: int

    @property
    def chunk_id(self) -> str:
        return f"{self.doc_id}:{self.index}"
