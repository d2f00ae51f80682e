"""GET/POST /api/documents, GET/DELETE /api/documents/{doc_id}."""

from __future__ import annotations

from fastapi import APIRouter, Depends, File, Response, UploadFile
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from app.answer.types import DocumentInfo
from app.api.deps import get_documents, require_read, require_write
from app.api.errors import ERROR_RESPONSES
from app.errors import TooLarge
from app.services.documents import DocumentService

router = APIRouter(prefix="/api/documents", tags=["documents"], responses=ERROR_RESPONSES)


class DocumentList(BaseModel):
    documents: list[DocumentInfo]
    total: int


class Page(BaseModel):
    page: int = Field(description="Page number, from 1.")
    start: int = Field(description="Where the page's text starts in `text`.")
    end: int = Field(description="Where it ends (exclusive).")


class DocumentText(BaseModel):
    document: DocumentInfo
    text: str
    pages: list[Page] = Field(
        default_factory=list, description="PDF pages and their spans of `text`; empty otherwise."
    )


@router.get("", response_model=DocumentList, dependencies=[Depends(require_read)])
def list_documents(service: DocumentService = Depends(get_documents)) -> DocumentList:
    docs = service.list_documents()
    return DocumentList(documents=docs, total=len(docs))


@router.get("/{doc_id}", response_model=DocumentText, dependencies=[Depends(require_read)])
def get_document(doc_id: str, service: DocumentService = Depends(get_documents)) -> DocumentText:
    info, text = service.get_document(doc_id)
    pages = service.index.snapshot.documents[doc_id].pages
    return DocumentText(
        document=info, text=text, pages=[Page(page=n, start=a, end=b) for n, a, b in pages]
    )


@router.post(
    "",
    response_model=DocumentInfo,
    status_code=201,
    dependencies=[Depends(require_write)],
    responses={
        200: {
            "model": DocumentInfo,
            "description": "The same content is already stored: the existing document, "
            "with `duplicate: true`.",
        }
    },
)
async def upload_document(
    response: Response,
    file: UploadFile = File(..., description="A .txt, .md, .html or .pdf file."),
    service: DocumentService = Depends(get_documents),
) -> DocumentInfo:
    """Add a document to the live index; it is answerable as soon as this returns.

    The type comes from the name and must match the content; the same content twice is
    stored once (200 with the existing document).
    """
    limit = int(service.settings.max_upload_mb * 1024 * 1024)
    data = await file.read(limit + 1)
    if len(data) > limit:
        raise TooLarge(
            f"the file is larger than the {service.settings.max_upload_mb:g} MB limit "
            "(RAGQA_MAX_UPLOAD_MB)"
        )
    info = await run_in_threadpool(service.add_document, file.filename or "document.txt", data)
    if info.duplicate:
        response.status_code = 200
    return info


@router.delete("/{doc_id}", response_model=DocumentInfo, dependencies=[Depends(require_write)])
def delete_document(doc_id: str, service: DocumentService = Depends(get_documents)) -> DocumentInfo:
    """Remove a document; its passages stop appearing in answers at once."""
    return service.delete_document(doc_id)
