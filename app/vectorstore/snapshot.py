"""One version of the index in memory: its documents, chunks, embeddings and FAISS index,
and the search over all of them or a scope of them."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from app.vectorstore.faiss_index import search_one

# scopes up to this many chunks are scored exactly in numpy (Snapshot.search)
SCOPE_BRUTE_FORCE_ROWS = 20_000


@dataclass(frozen=True)
class DocumentRecord:
    doc_id: str
    source: str
    title: str
    content_hash: str
    text: str
    added_at: float
    n_chunks: int = 0
    published: str | None = None
    author: str | None = None
    skip: tuple[tuple[int, int], ...] = ()  # spans of the text in no chunk (front matter)
    pages: tuple[tuple[int, int, int], ...] = ()  # PDF pages: (number, start, end)

    def page_span(self, page: int | None) -> tuple[int, int] | None:
        """The character span of PDF page ``page`` in :attr:`text`."""
        for number, start, end in self.pages:
            if number == page:
                return start, end
        return None


@dataclass(frozen=True)
class ChunkRecord:
    row: int
    chunk_id: str
    doc_id: str
    index: int
    start: int
    end: int
    heading: str | None
    text: str
    n_tokens: int
    page: int | None = None


@dataclass
class Snapshot:
    """One complete, immutable version of the index, held in memory."""

    path: Path
    manifest: dict[str, Any]
    documents: dict[str, DocumentRecord]
    chunks: list[ChunkRecord]
    embeddings: np.ndarray
    faiss_index: Any
    _by_doc: dict[str, list[int]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for c in self.chunks:
            self._by_doc.setdefault(c.doc_id, []).append(c.row)

    @property
    def version(self) -> str:
        return self.path.name

    @property
    def n_chunks(self) -> int:
        return len(self.chunks)

    def chunk_rows(self, doc_id: str) -> list[int]:
        return self._by_doc.get(doc_id, [])

    def search(
        self, query: np.ndarray, k: int, rows: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` chunks most similar to ``query`` (scores, rows), best first; with
        ``rows``, the ``k`` best *among those rows* (a scoped question), exactly.

        A scope must never lose passages to the filter, whatever the index type, so a
        scoped search is always exact:

        - a scope of at most ``SCOPE_BRUTE_FORCE_ROWS`` chunks is scored in numpy, one dot
          product per chunk of the scope over the stored embeddings (a few ms);
        - a larger scope is filtered *inside* FAISS: an exact flat search with an
          ``IDSelectorBatch`` in its ``SearchParameters``, on the flat index itself or, for
          an HNSW index, on the flat storage HNSW keeps its vectors in. Only rows in scope
          are scored, so the result is the true top ``k`` of the scope.

        Not chosen: HNSW's own graph walk with the selector (its recall falls when the
        scope is a small share of the graph: 8 of the true 10 in tests/test_scope.py), and
        over-fetching (search everything for more, then drop what is out of scope: for a
        small scope in a large index no fixed over-fetch is enough).
        """
        if self.n_chunks == 0 or (rows is not None and len(rows) == 0):
            return np.zeros(0, dtype=np.float32), np.zeros(0, dtype=np.int64)
        if rows is None:
            k = min(k, self.n_chunks)
            scores, ids = search_one(self.faiss_index, query, k)
        elif len(rows) <= SCOPE_BRUTE_FORCE_ROWS:
            k = min(k, len(rows))
            sims = self.embeddings[rows] @ query.astype(np.float32, copy=False).reshape(-1)
            top = np.argpartition(-sims, k - 1)[:k] if k < len(rows) else np.arange(len(rows))
            top = top[np.argsort(-sims[top], kind="stable")]
            scores, ids = sims[top], rows[top]
        else:
            k = min(k, len(rows))
            lib: Any = faiss  # (its type stubs lack the search parameter classes)
            selector = lib.IDSelectorBatch(np.ascontiguousarray(rows, dtype=np.int64))
            flat = self.faiss_index
            if isinstance(flat, faiss.IndexHNSWFlat):
                flat = lib.downcast_index(flat.storage)  # the exact IndexFlatIP inside
            params = lib.SearchParameters(sel=selector)
            scores, ids = search_one(flat, query, k, params)
        keep = ids >= 0
        return scores[keep], ids[keep]
