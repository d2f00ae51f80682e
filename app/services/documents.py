"""Document upload, listing and delete over the live index."""

from __future__ import annotations

import hashlib
import re
import threading
import unicodedata
from pathlib import Path

from app.answer.types import DocumentInfo
from app.errors import DocumentNotFound, TooLarge, UnsupportedDocument
from app.ingest.loaders import SUPPORTED_SUFFIXES, load_bytes
from app.ingest.pipeline import Progress, apply_documents
from app.services.live_index import LiveIndex
from app.vectorstore.write_errors import storage_error


def safe_filename(name: str) -> str:
    """The last path component, letters, digits, ``_.- `` only, at most 120 UTF-8 bytes with
    its suffix kept: never a path, never hidden, never outside the uploads folder."""
    name = unicodedata.normalize("NFKC", name).replace("\\", "/").split("/")[-1]
    name = re.sub(r"[^\w.\- ]+", "_", name).strip(" .")
    stem, dot, suffix = name.rpartition(".")
    if not (dot and stem and len(suffix) <= 16):
        stem, suffix = name, ""
    while len(stem.encode("utf-8")) > 100:
        stem = stem[:-1]
    stem = stem.rstrip(" .")
    return (f"{stem}.{suffix}" if suffix else stem) or "document"


class DocumentService:
    def __init__(self, index: LiveIndex) -> None:
        self.index = index
        self.settings = index.settings
        # one upload/delete at a time: the duplicate check and the write are one step
        self._write_lock = threading.Lock()

    def _info(self, doc_id: str, duplicate: bool = False) -> DocumentInfo:
        d = self.index.snapshot.documents[doc_id]
        return DocumentInfo(
            doc_id=d.doc_id,
            title=d.title,
            source=d.source,
            content_hash=d.content_hash,
            n_chunks=d.n_chunks,
            n_chars=len(d.text),
            added_at=d.added_at,
            published=d.published,
            author=d.author,
            duplicate=duplicate,
        )

    def list_one(self, doc_id: str, duplicate: bool = False) -> DocumentInfo:
        return self._info(doc_id, duplicate)

    def list_documents(self) -> list[DocumentInfo]:
        docs = self.index.snapshot.documents.values()
        return [
            self._info(d.doc_id) for d in sorted(docs, key=lambda d: (d.title.lower(), d.doc_id))
        ]

    def get_document(self, doc_id: str) -> tuple[DocumentInfo, str]:
        documents = self.index.snapshot.documents
        if doc_id not in documents:
            shown = doc_id if len(doc_id) <= 64 else doc_id[:64] + "…"
            raise DocumentNotFound(f"no document with id {shown!r}; GET /api/documents lists them")
        return self._info(doc_id), documents[doc_id].text

    def _check_upload(self, safe: str, data: bytes) -> None:
        suffix = Path(safe).suffix.lower()
        if suffix not in SUPPORTED_SUFFIXES:
            raise UnsupportedDocument(
                f"{safe}: unsupported file type; upload one of {', '.join(sorted(SUPPORTED_SUFFIXES))}"
            )
        limit = int(self.settings.max_upload_mb * 1024 * 1024)
        if len(data) > limit:
            raise TooLarge(
                f"{safe} is {len(data)} bytes; the limit is {limit} bytes (RAGQA_MAX_UPLOAD_MB)"
            )

    def check_upload(self, filename: str, data: bytes) -> str:
        """The safe file name, or the refusal (type, size) before any work."""
        safe = safe_filename(filename)
        self._check_upload(safe, data)
        return safe

    def add_document(
        self, filename: str, data: bytes, on_progress: Progress | None = None
    ) -> DocumentInfo:
        """Store an uploaded file and index it. The same content twice is stored once.
        ``on_progress(done, total)``: chunks embedded so far (upload jobs report it)."""
        safe = self.check_upload(filename, data)
        uploads = self.settings.uploads_dir
        target = uploads / f"{hashlib.sha256(data).hexdigest()[:12]}-{safe}"
        # validates the content before anything is written
        doc = load_bytes(
            data, Path(safe), source=str(target), max_pdf_pages=self.settings.max_pdf_pages
        )
        with self._write_lock:
            for d in self.index.snapshot.documents.values():
                if d.content_hash == doc.content_hash:
                    return self._info(d.doc_id, duplicate=True)
            tmp = uploads / f".{target.name}.part"
            try:
                uploads.mkdir(parents=True, exist_ok=True)
                tmp.write_bytes(data)
                tmp.replace(target)
            except OSError as exc:
                tmp.unlink(missing_ok=True)
                raise storage_error(exc, f"could not store {safe} in {uploads}", len(data)) from exc
            try:
                snap = apply_documents(
                    self.index.store,
                    self.index.embedder,
                    self.settings,
                    add=[doc],
                    on_progress=on_progress,
                )
            except BaseException:
                target.unlink(missing_ok=True)
                raise
            self.index.replace(snap)
            return self._info(doc.doc_id)

    def delete_document(self, doc_id: str) -> DocumentInfo:
        with self._write_lock:
            info, _ = self.get_document(doc_id)
            snap = apply_documents(
                self.index.store, self.index.embedder, self.settings, remove=[doc_id]
            )
            self.index.replace(snap)
        src = Path(info.source)
        if self.settings.uploads_dir.resolve() in src.resolve().parents:
            src.unlink(missing_ok=True)
        return info
