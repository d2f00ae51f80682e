"""Ingest: load → chunk → embed → write a new index version, incrementally.

Only new or changed documents are chunked and embedded; documents that were ingested from
one of the given roots and are gone from disk are removed. Changing the chunking settings
re-chunks everything.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from app.corpus import Document, doc_id_for
from app.embedding import Embedder
from app.errors import UnsupportedDocument
from app.ingest.chunking import chunk_document
from app.ingest.front_matter import reads_as_title
from app.ingest.loaders import apply_front_matter, discover, file_sha256, load_file
from app.settings import Settings
from app.vectorstore.snapshot import DocumentRecord, Snapshot
from app.vectorstore.store import IndexStore, NewDocument, acquire, chunking_settings

log = logging.getLogger(__name__)


@dataclass
class IngestReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)
    n_chunks_embedded: int = 0
    n_chunks_total: int = 0
    n_documents_total: int = 0
    seconds: float = 0.0
    snapshot: Snapshot | None = None

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed)

    def summary(self) -> str:
        return (
            f"{len(self.added)} added, {len(self.updated)} updated, {len(self.removed)} removed, "
            f"{len(self.unchanged)} unchanged, {len(self.skipped)} skipped; "
            f"{self.n_chunks_embedded} chunks embedded; index holds {self.n_documents_total} "
            f"documents, {self.n_chunks_total} chunks ({self.seconds:.1f} s)"
        )


def document_of(rec: DocumentRecord) -> Document:
    """A stored document as a :class:`Document` to re-chunk; one stored before its front
    matter was read gets it read now (from its text: the same rules as the loaders)."""
    doc = Document(
        rec.source,
        rec.title,
        rec.text,
        published=rec.published,
        author=rec.author,
        skip=[(a, b) for a, b in rec.skip],
        pages=[(n, a, b) for n, a, b in rec.pages],
    )
    if not rec.skip and rec.published is None and rec.author is None:
        known = rec.title if reads_as_title(rec.title) else None  # not an old date title
        apply_front_matter(doc, known, fallback=Path(rec.source).stem)
    return doc


def _under(source: str, roots: Sequence[Path]) -> bool:
    p = Path(source)
    return any(p == r or r in p.parents for r in roots)


def _current(store: IndexStore, embedder: Embedder) -> Snapshot | None:
    return store.load(embedder.name, embedder.dim) if store.exists() else None


# (chunks embedded so far, chunks in all)
Progress = Callable[[int, int], None]


def _embed(texts: list[str], embedder: Embedder, on_progress: Progress | None) -> np.ndarray:
    """Embed ``texts``; with ``on_progress``, one batch at a time, reporting after each.

    One batch at a time also keeps questions answered during a long ingest: the embedder
    serves one call at a time, so a question's embedding waits for one batch at most,
    never for the whole document."""
    if on_progress is None or not texts:
        return embedder.embed(texts)
    step = max(1, embedder.batch_size)
    parts = []
    on_progress(0, len(texts))
    for i in range(0, len(texts), step):
        parts.append(embedder.embed(texts[i : i + step]))
        on_progress(min(i + step, len(texts)), len(texts))
    return np.concatenate(parts)


def embed_documents(
    docs: Sequence[Document],
    embedder: Embedder,
    settings: Settings,
    progress: bool = False,
    on_progress: Progress | None = None,
) -> list[NewDocument]:
    """Chunk and embed documents. The embedded text carries title and heading for context.

    ``progress``: a tqdm bar of chunks embedded, with chunks per second, on stderr.
    ``on_progress(done, total)``: called after each batch (upload jobs report it)."""
    prepared = []
    texts: list[str] = []
    for doc in docs:
        chunks = chunk_document(
            doc,
            embedder.count_tokens,
            embedder.split_tokens,
            settings.chunk_tokens,
            settings.chunk_overlap,
        )
        prepared.append((doc, chunks))
        for c in chunks:
            context = (
                doc.title
                if not c.heading or c.heading == doc.title
                else f"{doc.title} — {c.heading}"
            )
            texts.append(f"{context}\n{c.text}")
    if progress and texts:
        from tqdm import tqdm

        with tqdm(total=len(texts), unit="chunk", desc="embedding", file=sys.stderr) as bar:

            def advance(done: int, total: int) -> None:
                bar.update(done - bar.n)
                if on_progress is not None:
                    on_progress(done, total)

            vectors = _embed(texts, embedder, advance)
    else:
        vectors = _embed(texts, embedder, on_progress)
    out: list[NewDocument] = []
    pos = 0
    for doc, chunks in prepared:
        out.append(NewDocument(doc, chunks, vectors[pos : pos + len(chunks)]))
        pos += len(chunks)
    return out


def apply_documents(
    store: IndexStore,
    embedder: Embedder,
    settings: Settings,
    add: Sequence[Document] = (),
    remove: Iterable[str] = (),
    *,
    rebuild: bool = False,
    progress: bool = False,
    lock_wait: float = 60.0,
    on_progress: Progress | None = None,
) -> Snapshot:
    """Add/replace ``add`` and remove doc ids ``remove`` under the writer lock."""
    with acquire(store, lock_wait):
        base = None if rebuild else _current(store, embedder)
        new_docs = embed_documents(add, embedder, settings, progress, on_progress)
        return store.write(
            base,
            new_docs,
            remove,
            embed_model=embedder.name,
            dim=embedder.dim,
            chunk_tokens=settings.chunk_tokens,
            chunk_overlap=settings.chunk_overlap,
            ann_threshold=settings.ann_threshold,
        )


def ingest_paths(
    paths: Sequence[Path],
    store: IndexStore,
    embedder: Embedder,
    settings: Settings,
    *,
    rebuild: bool = False,
    progress: bool = False,
    lock_wait: float = 60.0,
) -> IngestReport:
    start = time.perf_counter()
    report = IngestReport()
    roots = [p.resolve() for p in paths]
    with acquire(store, lock_wait):
        base = None if rebuild else _current(store, embedder)
        base_hashes = _reusable_hashes(base, settings)
        scan = _scan(roots, base, base_hashes, settings, report)
        remove = _removed(base, roots, base_hashes, scan, report)
        # (an index from before file hashes were recorded gets them on its next ingest)
        if report.changed or base is None or scan.unrecorded:
            new_docs = embed_documents(scan.to_add, embedder, settings, progress)
            report.n_chunks_embedded = sum(len(nd.chunks) for nd in new_docs)
            snap = store.write(
                base,
                new_docs,
                remove,
                embed_model=embedder.name,
                dim=embedder.dim,
                chunk_tokens=settings.chunk_tokens,
                chunk_overlap=settings.chunk_overlap,
                ann_threshold=settings.ann_threshold,
                file_hashes=scan.unrecorded,
            )
        else:
            snap = base
    report.snapshot = snap
    report.n_chunks_total = snap.n_chunks
    report.n_documents_total = len(snap.documents)
    report.seconds = time.perf_counter() - start
    return report


def _reusable_hashes(base: Snapshot | None, settings: Settings) -> dict[str, str]:
    """The base's content hashes by doc id: a document with the same hash is unchanged.
    Empty when the chunking settings changed: every document is re-chunked."""
    if base is None:
        return {}
    chunking = base.manifest.get("chunking", {})
    if chunking != chunking_settings(settings.chunk_tokens, settings.chunk_overlap):
        log.info("chunking settings changed: re-chunking every document")
        return {}
    return {k: d.content_hash for k, d in base.documents.items()}


@dataclass
class _Scan:
    to_add: list[Document] = field(default_factory=list)  # new or changed documents
    unrecorded: dict[str, str] = field(default_factory=dict)  # unchanged, file hash new
    seen: set[str] = field(default_factory=set)  # doc ids found under the roots


def _scan(
    roots: list[Path],
    base: Snapshot | None,
    base_hashes: dict[str, str],
    settings: Settings,
    report: IngestReport,
) -> _Scan:
    """Read the files under ``roots``; note in ``report`` what is new, changed, unchanged
    or skipped."""
    # file hashes recorded at the last ingest: an unchanged file is not parsed again,
    # which is most of the time of a re-ingest (parsing HTML and PDF is slow)
    known_files: dict[str, str] = {
        k: str(meta["file_sha256"])
        for k, meta in (base.manifest.get("documents", {}) if base is not None else {}).items()
        if k in base_hashes and meta.get("file_sha256")
    }
    scan = _Scan()
    seen = scan.seen
    for path in discover(roots):
        source = str(path.resolve())
        file_id = doc_id_for(source)
        known = known_files.get(file_id)
        if known is not None and file_sha256(path) == known:
            if file_id not in seen:
                seen.add(file_id)
                report.unchanged.append(source)
            continue
        try:
            doc = load_file(path, max_pdf_pages=settings.max_pdf_pages)
        except UnsupportedDocument as exc:
            log.warning("skipping %s", exc.message)
            report.skipped.append((str(path), exc.message))
            continue
        if doc.doc_id in seen:
            continue
        seen.add(doc.doc_id)
        old = base_hashes.get(doc.doc_id)
        if old == doc.content_hash:
            report.unchanged.append(doc.source)
            if doc.file_sha256:  # parsed for want of a recorded hash: record it now
                scan.unrecorded[doc.doc_id] = doc.file_sha256
            continue
        (report.updated if base and doc.doc_id in base.documents else report.added).append(
            doc.source
        )
        scan.to_add.append(doc)
    return scan


def _removed(
    base: Snapshot | None,
    roots: list[Path],
    base_hashes: dict[str, str],
    scan: _Scan,
    report: IngestReport,
) -> list[str]:
    """The doc ids to remove: the base's documents under ``roots`` no longer found. When
    the chunking changed, the documents outside the roots join ``scan.to_add``."""
    remove: list[str] = []
    if base is None:
        return remove
    for doc_id, rec in base.documents.items():
        if doc_id not in scan.seen and _under(rec.source, roots):
            remove.append(doc_id)
            report.removed.append(rec.source)
    if not base_hashes:  # chunking changed: re-chunk documents outside the roots too
        for doc_id, rec in base.documents.items():
            if doc_id not in scan.seen and doc_id not in remove:
                scan.to_add.append(document_of(rec))
                report.updated.append(rec.source)
    return remove
