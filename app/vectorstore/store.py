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

import json
import logging
import os
import shutil
import sqlite3
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import faiss
import numpy as np
from filelock import FileLock, Timeout

from app.corpus import Chunk, Document
from app.errors import IndexBusy, IndexCorrupt, IndexIncompatible, IndexMissing
from app.vectorstore.faiss_index import HNSW_EF_SEARCH, build_faiss
from app.vectorstore.snapshot import DocumentRecord, Snapshot
from app.vectorstore.tables import ChunkRow, chunk_row, read_tables, tables_image
from app.vectorstore.write_errors import storage_error

log = logging.getLogger(__name__)

FORMAT_VERSION = 1


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
            documents, chunks = read_tables(version / "chunks.sqlite")
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
        now = time.time()
        contents = _merge(base, add, drop, dim, now)
        hashes = _file_hashes(base, add, drop, file_hashes)
        self.root.mkdir(parents=True, exist_ok=True)
        stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime(now))
        name = f"v-{stamp}-{uuid.uuid4().hex[:8]}"
        tmp = self.root / f".tmp-{name}"
        try:
            tmp.mkdir()
            index = _write_version(tmp, contents, ann_threshold)
            manifest = {
                "format_version": FORMAT_VERSION,
                "created_at": now,
                "embed_model": embed_model,
                "dim": dim,
                "chunking": chunking_settings(chunk_tokens, chunk_overlap),
                "index_type": "hnsw" if isinstance(index, faiss.IndexHNSWFlat) else "flat",
                "n_chunks": len(contents.chunk_rows),
                "documents": _manifest_documents(contents, hashes),
            }
            (tmp / "manifest.json").write_text(json.dumps(manifest, indent=1), encoding="utf-8")
            self._publish(tmp, name)
        except (OSError, RuntimeError, sqlite3.Error) as exc:
            shutil.rmtree(tmp, ignore_errors=True)
            needed = 2 * contents.embeddings.nbytes + 3 * sum(len(d.text) for d in contents.docs)
            raise storage_error(
                exc, f"could not write a new index version in {self.root}", needed
            ) from exc
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        self._collect_garbage(keep={name, base.version if base else ""})
        return self.load()

    def _publish(self, tmp: Path, name: str) -> None:
        """fsync the complete version in ``tmp``, rename it to ``name`` and point
        ``CURRENT`` at it (atomically, then fsync the folder)."""
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


@dataclass
class _Contents:
    """What a new version holds: documents, chunk rows and their embeddings, in row order."""

    docs: list[DocumentRecord]
    chunk_rows: list[ChunkRow]
    embeddings: np.ndarray


def _merge(
    base: Snapshot | None, add: list[NewDocument], drop: set[str], dim: int, now: float
) -> _Contents:
    """The base's documents not in ``drop`` (rows and vectors copied), then ``add``."""
    docs: list[DocumentRecord] = []
    chunk_rows: list[ChunkRow] = []
    vectors: list[np.ndarray] = []
    if base is not None:
        keep_rows = [c.row for c in base.chunks if c.doc_id not in drop]
        docs.extend(d for k, d in base.documents.items() if k not in drop)
        chunk_rows.extend(chunk_row(base.chunks[r]) for r in keep_rows)
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
        chunk_rows.extend(chunk_row(c) for c in nd.chunks)
        if len(nd.chunks):
            vectors.append(np.asarray(nd.embeddings, dtype=np.float32).reshape(-1, dim))
    embeddings = (
        np.ascontiguousarray(np.concatenate(vectors), dtype=np.float32)
        if vectors
        else np.zeros((0, dim), dtype=np.float32)
    )
    if embeddings.shape[0] != len(chunk_rows):
        raise ValueError("internal error: embeddings and chunks disagree")
    return _Contents(docs, chunk_rows, embeddings)


def _file_hashes(
    base: Snapshot | None,
    add: list[NewDocument],
    drop: set[str],
    given: dict[str, str] | None,
) -> dict[str, str]:
    """Hashes of the files documents were read from, so that a re-ingest can skip
    unchanged files without parsing them (ingest_paths): the base's, those given, and
    those of the added documents."""
    base_meta = base.manifest.get("documents", {}) if base is not None else {}
    recorded: dict[str, str] = {
        **{k: str(m["file_sha256"]) for k, m in base_meta.items() if m.get("file_sha256")},
        **(given or {}),
    }
    hashes = {k: v for k, v in recorded.items() if k not in drop}
    hashes.update(
        {nd.document.doc_id: nd.document.file_sha256 for nd in add if nd.document.file_sha256}
    )
    return hashes


def _write_version(tmp: Path, contents: _Contents, ann_threshold: int) -> Any:
    """The SQLite file, the embeddings and the FAISS index of a version, into ``tmp``;
    returns the FAISS index. Built in memory, then written by Python: a failed write (full
    disk, file size limit) raises OSError with its errno, which sqlite would turn into
    "I/O error"."""
    image = tables_image(contents.docs, contents.chunk_rows)
    (tmp / "chunks.sqlite").write_bytes(image)
    del image
    dim = contents.embeddings.shape[1]
    np.save(tmp / "embeddings.npy", contents.embeddings, allow_pickle=False)
    index = build_faiss(contents.embeddings, dim, ann_threshold)
    _write_faiss(index, tmp / "vectors.faiss")
    return index


def _manifest_documents(contents: _Contents, hashes: dict[str, str]) -> dict[str, Any]:
    n_by_doc: dict[str, int] = {}
    for row in contents.chunk_rows:
        n_by_doc[row[1]] = n_by_doc.get(row[1], 0) + 1
    return {
        d.doc_id: {
            "source": d.source,
            "title": d.title,
            "content_hash": d.content_hash,
            "n_chunks": n_by_doc.get(d.doc_id, 0),
            **({"published": d.published} if d.published else {}),
            **({"author": d.author} if d.author else {}),
            **({"file_sha256": hashes[d.doc_id]} if d.doc_id in hashes else {}),
        }
        for d in contents.docs
    }
