"""GET/POST /api/documents, GET/DELETE /api/documents/{doc_id}."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, File, Response, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from app.answer.types import DocumentInfo
from app.api.deps import get_documents, get_jobs, require_read, require_write
from app.api.errors import ERROR_RESPONSES
from app.errors import JobNotFound, TooLarge
from app.services.documents import DocumentService
from app.services.jobs import Job, JobService

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


class JobInfo(BaseModel):
    job_id: str
    state: Literal["queued", "running", "done", "failed"]
    filename: str
    size: int = Field(description="Bytes uploaded.")
    chunks_done: int = Field(description="Passages embedded so far.")
    chunks_total: int | None = Field(
        None, description="Passages to embed (null until the document is chunked)."
    )
    error: str | None = Field(None, description="Why the job failed.")
    document: DocumentInfo | None = Field(None, description="The document, once done.")
    created_at: float
    updated_at: float


def job_info(job: Job, documents: DocumentService) -> JobInfo:
    doc = None
    if job.doc_id is not None and job.doc_id in documents.index.snapshot.documents:
        doc = documents.list_one(job.doc_id, duplicate=job.duplicate)
    return JobInfo(
        job_id=job.job_id,
        state=job.state,
        filename=job.filename,
        size=job.size,
        chunks_done=job.chunks_done,
        chunks_total=job.chunks_total,
        error=job.error,
        document=doc,
        created_at=job.created_at,
        updated_at=job.updated_at,
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
        },
        202: {
            "model": JobInfo,
            "description": "A large upload (over RAGQA_ASYNC_UPLOAD_MB): queued for indexing "
            "in the background; poll `GET /api/jobs/{job_id}` (the Location header).",
        },
    },
)
async def upload_document(
    response: Response,
    file: UploadFile = File(..., description="A .txt, .md, .html or .pdf file."),
    service: DocumentService = Depends(get_documents),
    jobs: JobService = Depends(get_jobs),
) -> Any:
    """Add a document to the live index; it is answerable as soon as this returns.

    The type comes from the name and must match the content; the same content twice is
    stored once (200 with the existing document). A file over RAGQA_ASYNC_UPLOAD_MB is
    indexed in the background instead: 202 with a job to poll at ``GET /api/jobs/{id}``.
    """
    limit = int(service.settings.max_upload_mb * 1024 * 1024)
    data = await file.read(limit + 1)
    if len(data) > limit:
        raise TooLarge(
            f"the file is larger than the {service.settings.max_upload_mb:g} MB limit "
            "(RAGQA_MAX_UPLOAD_MB)"
        )
    if len(data) > service.settings.async_upload_mb * 1024 * 1024:
        job = await run_in_threadpool(jobs.submit, file.filename or "document.txt", data)
        return JSONResponse(
            job_info(job, service).model_dump(),
            status_code=202,
            headers={"Location": f"/api/jobs/{job.job_id}"},
        )
    info = await run_in_threadpool(service.add_document, file.filename or "document.txt", data)
    if info.duplicate:
        response.status_code = 200
    return info


@router.delete("/{doc_id}", response_model=DocumentInfo, dependencies=[Depends(require_write)])
def delete_document(doc_id: str, service: DocumentService = Depends(get_documents)) -> DocumentInfo:
    """Remove a document; its passages stop appearing in answers at once."""
    return service.delete_document(doc_id)


jobs_router = APIRouter(prefix="/api/jobs", tags=["documents"], responses=ERROR_RESPONSES)


@jobs_router.get("/{job_id}", response_model=JobInfo, dependencies=[Depends(require_read)])
def get_job(
    job_id: str,
    jobs: JobService = Depends(get_jobs),
    documents: DocumentService = Depends(get_documents),
) -> JobInfo:
    """An upload job: its state, passages embedded of the total, the error if it failed
    (a job a restart interrupted has failed), the document once done."""
    job = jobs.get(job_id)
    if job is None:
        shown = job_id if len(job_id) <= 64 else job_id[:64] + "…"
        raise JobNotFound(f"no upload job with id {shown!r}")
    return job_info(job, documents)
