"""The SQLite file of a version (``chunks.sqlite``): documents with their full text, and
chunks. Built in memory and handed over as bytes, so that Python writes the file (a failed
write raises with its errno; SQLite would report a vague I/O error)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

from app.vectorstore.snapshot import ChunkRecord, DocumentRecord

SCHEMA = """CREATE TABLE documents (
    doc_id TEXT PRIMARY KEY,
    source TEXT NOT NULL,
    title TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    text TEXT NOT NULL,
    added_at REAL NOT NULL,
    published TEXT,
    author TEXT,
    skip TEXT,
    pages TEXT
);
CREATE TABLE chunks (
    row INTEGER PRIMARY KEY,
    chunk_id TEXT NOT NULL UNIQUE,
    doc_id TEXT NOT NULL REFERENCES documents(doc_id),
    idx INTEGER NOT NULL,
    start INTEGER NOT NULL,
    end INTEGER NOT NULL,
    heading TEXT,
    text TEXT NOT NULL,
    n_tokens INTEGER NOT NULL,
    page INTEGER
);
CREATE INDEX chunks_doc ON chunks(doc_id);
"""


# the columns of a chunks row after ``row``, in the table's order
ChunkRow = tuple[str, str, int, int, int, str | None, str, int, int | None]


def chunk_row(c: Any) -> ChunkRow:
    """A chunks row (without its row number) of a :class:`ChunkRecord` or a new chunk."""
    return (c.chunk_id, c.doc_id, c.index, c.start, c.end, c.heading, c.text, c.n_tokens, c.page)


def tables_image(docs: list[DocumentRecord], chunk_rows: list[ChunkRow]) -> bytes:
    """The whole SQLite file, built in memory: the bytes to write."""
    con = sqlite3.connect(":memory:")
    try:
        con.executescript(SCHEMA)
        con.executemany(
            "INSERT INTO documents VALUES (?,?,?,?,?,?,?,?,?,?)",
            [
                (
                    d.doc_id,
                    d.source,
                    d.title,
                    d.content_hash,
                    d.text,
                    d.added_at,
                    d.published,
                    d.author,
                    json.dumps([list(x) for x in d.skip]),
                    json.dumps([list(x) for x in d.pages]),
                )
                for d in docs
            ],
        )
        con.executemany(
            "INSERT INTO chunks VALUES (?,?,?,?,?,?,?,?,?,?)",
            [(i, *row) for i, row in enumerate(chunk_rows)],
        )
        con.commit()
        return con.serialize()
    finally:
        con.close()


def read_tables(path: Path) -> tuple[dict[str, DocumentRecord], list[ChunkRecord]]:
    """The documents (by id, ``n_chunks`` not yet counted) and the chunks (by row)."""
    if not path.is_file():
        raise OSError(f"{path.name} is missing")
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        # an index written before the document metadata and pages columns reads as
        # documents without them (and is re-chunked on the next ingest: the manifest's
        # chunker version differs)
        doc_cols = {r[1] for r in con.execute("PRAGMA table_info(documents)")}
        chunk_cols = {r[1] for r in con.execute("PRAGMA table_info(chunks)")}
        extra = [c for c in ("published", "author", "skip", "pages") if c in doc_cols]
        docs = {}
        for r in con.execute(
            "SELECT doc_id, source, title, content_hash, text, added_at"
            + "".join(f", {c}" for c in extra)
            + " FROM documents"
        ):
            more = dict(zip(extra, r[6:], strict=True))
            docs[r[0]] = DocumentRecord(
                doc_id=r[0],
                source=r[1],
                title=r[2],
                content_hash=r[3],
                text=r[4],
                added_at=r[5],
                published=more.get("published"),
                author=more.get("author"),
                skip=tuple(tuple(x) for x in json.loads(more.get("skip") or "[]")),
                pages=tuple(tuple(x) for x in json.loads(more.get("pages") or "[]")),
            )
        page_col = ", page" if "page" in chunk_cols else ", NULL"
        chunks = [
            ChunkRecord(*r)
            for r in con.execute(
                "SELECT row, chunk_id, doc_id, idx, start, end, heading, text, n_tokens"
                f"{page_col} FROM chunks ORDER BY row"
            )
        ]
    finally:
        con.close()
    if any(c.row != i for i, c in enumerate(chunks)):
        raise ValueError("chunk rows are not contiguous")
    return docs, chunks
