"""The on-disk index: FAISS vectors, chunk metadata in SQLite, and a manifest.

Layout of ``index_dir``::

    CURRENT              name of the live version folder (replaced atomically)
    v-<stamp>/manifest.json
    v-<stamp>/chunks.sqlite      documents (with full text) and chunks
    v-<stamp>/embeddings.npy     one normalised vector per chunk row
    v-<stamp>/vectors.faiss      exact (IndexFlatIP) or approximate (HNSW) index
    .lock                        writers hold it while building a version
    uploads/                     files received through the API

A write builds a complete new version in a temporary folder, fsyncs it, renames it into
place and only then points ``CURRENT`` at it. A crash at any moment leaves ``CURRENT``
pointing at a complete version: the old one or the new one, never a mix.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import shutil
import sqlite3
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import faiss
import numpy as np
from filelock import FileLock, Timeout

from app.corpus import Chunk, Document
from app.errors import (
    IndexBusy,
    IndexCorrupt,
    IndexIncompatible,
    IndexMissing,
    IndexWriteFailed,
    StorageFull,
)

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 80
HNSW_EF_SEARCH = 128  # recall@10 0.977 at 1M real-like vectors, 0.3-0.5 ms (PERFORMANCE.md)
# scopes up to this many chunks are scored exactly in numpy (Snapshot.search)
SCOPE_BRUTE_FORCE_ROWS = 20_000

_SCHEMA = """
CREATE TABLE documents (
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


def search_one(
    index: Any, query: np.ndarray, k: int, params: Any = None
) -> tuple[np.ndarray, np.ndarray]:
    """One query, on one OpenMP thread (scores, ids).

    FAISS parallelises over queries; for a single one its threads only add start-up and
    barrier waits: on 2 cores one thread is about twice as fast for exact search, and many
    times faster when another process holds a core (bench/retrieval_scale.py). The thread
    count is per calling thread in OpenMP and is restored, so index builds keep theirs.
    """
    previous = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    try:
        q = query.reshape(1, -1).astype(np.float32, copy=False)
        scores, ids = index.search(q, k) if params is None else index.search(q, k, params=params)
    finally:
        faiss.omp_set_num_threads(previous)
    return scores[0], ids[0]


@dataclass
class NewDocument:
    """A document to add, already chunked and embedded."""

    document: Document
    chunks: list[Chunk]
    embeddings: np.ndarray


CHUNKER_VERSION = 2  # 2: front matter skipped, PDF pages as boundaries


def chunking_settings(chunk_tokens: int, chunk_overlap: int) -> dict[str, int]:
    """What the chunks of an index depend on; a change re-chunks every document."""
    return {
        "chunk_tokens": chunk_tokens,
        "chunk_overlap": chunk_overlap,
        "chunker": CHUNKER_VERSION,
    }


def build_faiss(embeddings: np.ndarray, dim: int, ann_threshold: int) -> Any:
    n = embeddings.shape[0]
    index: Any
    if ann_threshold and n > ann_threshold:
        index = faiss.IndexHNSWFlat(dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
        index.hnsw.efSearch = HNSW_EF_SEARCH
    else:
        index = faiss.IndexFlatIP(dim)
    if n:
        index.add(np.ascontiguousarray(embeddings, dtype=np.float32))
    return index


_FULL_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}
_SQLITE_FULL = 13


def storage_error(exc: BaseException, what: str, needed_bytes: int = 0) -> IndexWriteFailed:
    """A clear error for a failed write: :class:`StorageFull` when the disk (or the file
    size limit) ran out, :class:`IndexWriteFailed` otherwise."""
    full = (
        (isinstance(exc, OSError) and exc.errno in _FULL_ERRNOS)
        or (isinstance(exc, sqlite3.Error) and getattr(exc, "sqlite_errorcode", 0) == _SQLITE_FULL)
        or any(s in str(exc) for s in ("No space left", "File too large", "Disk quota"))
    )
    reason = str(exc) or type(exc).__name__
    need = f" (it needs about {needed_bytes / 1e6:.1f} MB)" if needed_bytes else ""
    if (isinstance(exc, OSError) and exc.errno == errno.EFBIG) or "File too large" in reason:
        return StorageFull(
            f"{what}: a file grew past this process's file size limit ({reason}). Raise "
            f"the limit (ulimit -f){need} and try again; the previous index is intact and "
            "still served"
        )
    if full:
        return StorageFull(
            f"{what}: the disk is full ({reason}). Free disk space{need} and try again; "
            "the previous index is intact and still served"
        )
    return IndexWriteFailed(
        f"{what} ({reason}). Check the folder exists and is writable, then try again; "
        "the previous index is intact and still served"
    )


def _write_faiss(index: Any, path: Path) -> None:
    """Serialise in memory and write with Python, which raises on a failed write.
    (``faiss.write_index`` only prints a failed close, leaving a truncated file.)"""
    data = faiss.serialize_index(index)
    with open(path, "wb") as f:
        f.write(data.data)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_file(path: Path) -> None:
    with open(path, "rb+") as f:
        os.fsync(f.fileno())


class IndexStore:
    """Reads and atomically writes versions of the index in ``root``."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    # --- reading ----------------------------------------------------------------
    def exists(self) -> bool:
        return (self.root / "CURRENT").is_file()

    def current_version(self) -> Path | None:
        pointer = self.root / "CURRENT"
        if not pointer.is_file():
            return None
        name = pointer.read_text(encoding="utf-8").strip()
        return self.root / name if name else None

    def load(self, embed_model: str | None = None, dim: int | None = None) -> Snapshot:
        version = self.current_version()
        if version is None:
            raise IndexMissing(
                f"no index in {self.root}. Build one: ragqa ingest data/articles --index {self.root}"
            )
        fix = f"Rebuild it: ragqa ingest <your documents> --index {self.root} --rebuild"
        try:
            manifest = json.loads((version / "manifest.json").read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise IndexCorrupt(f"index manifest in {version} is unreadable ({exc}). {fix}") from exc
        if manifest.get("format_version") != FORMAT_VERSION:
            raise IndexIncompatible(
                f"index in {self.root} has format {manifest.get('format_version')}, "
                f"this ragqa reads format {FORMAT_VERSION}. {fix}"
            )
        if embed_model is not None and (
            manifest.get("embed_model") != embed_model
            or (dim is not None and manifest.get("dim") != dim)
        ):
            raise IndexIncompatible(
                f"index in {self.root} was built with embedder {manifest.get('embed_model')!r} "
                f"(dimension {manifest.get('dim')}), but RAGQA_EMBED_MODEL is {embed_model!r}"
                f"{f' (dimension {dim})' if dim is not None else ''}. Either set "
                f"RAGQA_EMBED_MODEL={manifest.get('embed_model')} or {fix[0].lower()}{fix[1:]}"
            )
        try:
            documents, chunks = self._read_sqlite(version / "chunks.sqlite")
            embeddings = np.load(version / "embeddings.npy", allow_pickle=False)
            index = faiss.read_index(str(version / "vectors.faiss"))
        except (OSError, ValueError, RuntimeError, sqlite3.DatabaseError) as exc:
            raise IndexCorrupt(f"index files in {version} are damaged ({exc}). {fix}") from exc
        n = len(chunks)
        if (
            embeddings.shape != (n, manifest["dim"])
            or index.ntotal != n
            or index.d != manifest["dim"]
        ):
            raise IndexCorrupt(
                f"index files in {version} disagree: {n} chunks, embeddings "
                f"{embeddings.shape}, {index.ntotal} vectors. {fix}"
            )
        if isinstance(index, faiss.IndexHNSWFlat):
            index.hnsw.efSearch = HNSW_EF_SEARCH
        counts: dict[str, int] = {}
        for c in chunks:
            counts[c.doc_id] = counts.get(c.doc_id, 0) + 1
        documents = {
            k: DocumentRecord(**{**d.__dict__, "n_chunks": counts.get(k, 0)})
            for k, d in documents.items()
        }
        return Snapshot(version, manifest, documents, chunks, embeddings, index)

    @staticmethod
    def _read_sqlite(path: Path) -> tuple[dict[str, DocumentRecord], list[ChunkRecord]]:
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

    # --- writing ----------------------------------------------------------------
    def write(
        self,
        base: Snapshot | None,
        add: Iterable[NewDocument],
        remove: Iterable[str],
        *,
        embed_model: str,
        dim: int,
        chunk_tokens: int,
        chunk_overlap: int,
        ann_threshold: int,
        file_hashes: dict[str, str] | None = None,
    ) -> Snapshot:
        """Write a new version = ``base`` minus ``remove`` (doc ids) plus ``add``.

        The caller must hold the writer lock (:func:`acquire`). Returns the new snapshot, already live.
        ``file_hashes`` (doc id → sha256 of its file) are recorded in the manifest.
        """
        add = list(add)
        drop = set(remove) | {nd.document.doc_id for nd in add}
        # hashes of the files documents were read from, so that a re-ingest can skip
        # unchanged files without parsing them (ingest_paths): the base's, those given,
        # and those of the added documents
        base_meta = base.manifest.get("documents", {}) if base is not None else {}
        recorded: dict[str, str] = {
            **{k: str(m["file_sha256"]) for k, m in base_meta.items() if m.get("file_sha256")},
            **(file_hashes or {}),
        }
        hashes = {k: v for k, v in recorded.items() if k not in drop}
        hashes.update(
            {nd.document.doc_id: nd.document.file_sha256 for nd in add if nd.document.file_sha256}
        )
        now = time.time()
        docs: list[DocumentRecord] = []
        chunk_rows: list[tuple[Any, ...]] = []
        vectors: list[np.ndarray] = []
        if base is not None:
            keep_rows = [c.row for c in base.chunks if c.doc_id not in drop]
            docs.extend(d for k, d in base.documents.items() if k not in drop)
            chunk_rows.extend(
                (
                    base.chunks[r].chunk_id,
                    base.chunks[r].doc_id,
                    base.chunks[r].index,
                    base.chunks[r].start,
                    base.chunks[r].end,
                    base.chunks[r].heading,
                    base.chunks[r].text,
                    base.chunks[r].n_tokens,
                    base.chunks[r].page,
                )
                for r in keep_rows
            )
            if keep_rows:
                vectors.append(base.embeddings[keep_rows])
        for nd in add:
            d = nd.document
            docs.append(
                DocumentRecord(
                    d.doc_id,
                    d.source,
                    d.title,
                    d.content_hash,
                    d.text,
                    now,
                    published=d.published,
                    author=d.author,
                    skip=tuple(tuple(x) for x in d.skip),  # type: ignore[misc]
                    pages=tuple(tuple(x) for x in d.pages),  # type: ignore[misc]
                )
            )
            chunk_rows.extend(
                (
                    c.chunk_id,
                    c.doc_id,
                    c.index,
                    c.start,
                    c.end,
                    c.heading,
                    c.text,
                    c.n_tokens,
                    c.page,
                )
                for c in nd.chunks
            )
            if len(nd.chunks):
                vectors.append(np.asarray(nd.embeddings, dtype=np.float32).reshape(-1, dim))
        embeddings = (
            np.ascontiguousarray(np.concatenate(vectors), dtype=np.float32)
            if vectors
            else np.zeros((0, dim), dtype=np.float32)
        )
        if embeddings.shape[0] != len(chunk_rows):
            raise ValueError("internal error: embeddings and chunks disagree")

        self.root.mkdir(parents=True, exist_ok=True)
        stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime(now))
        name = f"v-{stamp}-{uuid.uuid4().hex[:8]}"
        tmp = self.root / f".tmp-{name}"
        try:
            tmp.mkdir()
            # built in memory, then written by Python: a failed write (full disk, file size
            # limit) raises OSError with its errno, which sqlite would turn into "I/O error"
            con = sqlite3.connect(":memory:")
            try:
                con.executescript(_SCHEMA)
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
                image = con.serialize()
            finally:
                con.close()
            (tmp / "chunks.sqlite").write_bytes(image)
            del image
            np.save(tmp / "embeddings.npy", embeddings, allow_pickle=False)
            index = build_faiss(embeddings, dim, ann_threshold)
            _write_faiss(index, tmp / "vectors.faiss")
            n_by_doc: dict[str, int] = {}
            for row in chunk_rows:
                n_by_doc[row[1]] = n_by_doc.get(row[1], 0) + 1
            manifest = {
                "format_version": FORMAT_VERSION,
                "created_at": now,
                "embed_model": embed_model,
                "dim": dim,
                "chunking": chunking_settings(chunk_tokens, chunk_overlap),
                "index_type": "hnsw" if isinstance(index, faiss.IndexHNSWFlat) else "flat",
                "n_chunks": len(chunk_rows),
                "documents": {
                    d.doc_id: {
                        "source": d.source,
                        "title": d.title,
                        "content_hash": d.content_hash,
                        "n_chunks": n_by_doc.get(d.doc_id, 0),
                        **({"published": d.published} if d.published else {}),
                        **({"author": d.author} if d.author else {}),
                        **({"file_sha256": hashes[d.doc_id]} if d.doc_id in hashes else {}),
                    }
                    for d in docs
                },
            }
            (tmp / "manifest.json").write_text(json.dumps(manifest, indent=1), encoding="utf-8")
            for f in tmp.iterdir():
                _fsync_file(f)
            _fsync_dir(tmp)
            final = self.root / name
            os.rename(tmp, final)
            pointer_tmp = self.root / f".CURRENT.{uuid.uuid4().hex[:8]}"
            pointer_tmp.write_text(name, encoding="utf-8")
            _fsync_file(pointer_tmp)
            os.replace(pointer_tmp, self.root / "CURRENT")
            _fsync_dir(self.root)
        except (OSError, RuntimeError, sqlite3.Error) as exc:
            shutil.rmtree(tmp, ignore_errors=True)
            needed = 2 * embeddings.nbytes + 3 * sum(len(d.text) for d in docs)
            raise storage_error(
                exc, f"could not write a new index version in {self.root}", needed
            ) from exc
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        self._collect_garbage(keep={name, base.version if base else ""})
        return self.load()

    def _collect_garbage(self, keep: set[str]) -> None:
        """Remove old versions and leftovers of interrupted writes."""
        for p in self.root.iterdir():
            if p.name in keep:
                continue
            if p.is_dir() and (p.name.startswith("v-") or p.name.startswith(".tmp-")):
                shutil.rmtree(p, ignore_errors=True)
            elif p.is_file() and p.name.startswith(".CURRENT."):
                p.unlink(missing_ok=True)


def acquire(store: IndexStore, wait: float) -> FileLock:
    """Take the writer lock or raise :class:`IndexBusy` with a clear message."""
    lock = FileLock(str(store.root / ".lock"), timeout=wait)
    store.root.mkdir(parents=True, exist_ok=True)
    try:
        lock.acquire()
    except Timeout as exc:
        raise IndexBusy(
            f"another ingest is writing {store.root}; wait for it to finish and try again"
        ) from exc
    return lock
