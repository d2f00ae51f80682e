"""Errors the pipeline raises. Each carries a message a person can act on.

The HTTP layer maps them to status codes; the CLI prints them. Nothing here knows HTTP.
"""

from __future__ import annotations


class RagqaError(Exception):
    """Base class. ``code`` is a stable machine-readable name."""

    code = "error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BadInput(RagqaError):
    code = "bad_input"


class UnsupportedDocument(BadInput):
    code = "unsupported_document"


class TooLarge(UnsupportedDocument):
    """A document (its bytes, or a PDF's page count) over the configured limit."""

    code = "too_large"


class DocumentNotFound(RagqaError):
    code = "document_not_found"


class JobNotFound(DocumentNotFound):
    code = "job_not_found"


class UnknownScope(BadInput):
    """A question scoped to document ids the index does not hold, or to a source glob
    that matches no document (HTTP 400)."""

    code = "unknown_documents"


class IndexMissing(RagqaError):
    code = "index_missing"


class IndexIncompatible(RagqaError):
    code = "index_incompatible"


class IndexCorrupt(RagqaError):
    code = "index_corrupt"


class IndexBusy(RagqaError):
    code = "index_busy"


class IndexWriteFailed(RagqaError):
    """A new index version could not be written; the previous one is intact."""

    code = "index_write_failed"


class StorageFull(IndexWriteFailed):
    """The disk (or the file size limit) ran out while writing."""

    code = "storage_full"


class ModelUnavailable(RagqaError):
    code = "model_unavailable"


class Busy(RagqaError):
    """The generation queue is full; try again after ``retry_after`` seconds."""

    code = "busy"

    def __init__(self, message: str, retry_after: int = 5) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class GenerationTimeout(RagqaError):
    code = "timeout"


class Cancelled(RagqaError):
    code = "cancelled"
