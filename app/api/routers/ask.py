"""POST /api/ask and POST /api/ask/stream."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import AsyncIterator
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field
from sse_starlette.sse import EventSourceResponse

from app.answer.service import RagService, StreamEvent
from app.answer.types import Answer, Citation
from app.api.deps import get_service, require_read
from app.api.errors import ERROR_RESPONSES, status_for
from app.api.metrics import metrics_of, record_answer
from app.api.threads import ReleasingResponse, cancellable, in_thread
from app.errors import RagqaError
from app.retrieval.scope import MAX_SCOPE_DOCUMENTS
from app.retrieval.scope import Scope as DocumentScope

router = APIRouter(prefix="/api", tags=["ask"], dependencies=[Depends(require_read)])


class Turn(BaseModel):
    role: Literal["user", "assistant"]
    content: str = Field(max_length=8000)


class ScopeFields(BaseModel):
    """Ask within some documents: ids from GET /api/documents and/or a glob on their
    source paths (both: the union). Unknown ids, or a glob matching nothing, get 400."""

    documents: list[Annotated[str, Field(max_length=200)]] | None = Field(
        None,
        max_length=MAX_SCOPE_DOCUMENTS,
        description="Answer only from these documents (ids from GET /api/documents).",
    )
    source_glob: str | None = Field(
        None,
        max_length=1000,
        description="Answer only from documents whose source path matches this glob "
        "(`*` also crosses `/`), e.g. `*/reports/*.pdf`.",
    )

    def scope(self, service: RagService) -> DocumentScope | None:
        """The request's scope, checked against the live index (400 before any work)."""
        scope = DocumentScope.of(self.documents, self.source_glob)
        if scope is not None:
            scope.doc_ids(service.snapshot)
        return scope


class AskRequest(ScopeFields):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"question": "How many tokens was Llama 2 trained on?"}]}
    )
    question: str = Field(min_length=1, max_length=20000, description="The question to answer.")
    top_k: int | None = Field(
        None, ge=1, le=50, description="Passages to retrieve (default RAGQA_TOP_K)."
    )
    history: list[Turn] = Field(
        default_factory=list,
        max_length=20,
        description="Previous turns of the conversation, oldest first, for follow-up questions.",
    )


log = logging.getLogger("ragqa")


@router.post("/ask", response_model=Answer, responses=ERROR_RESPONSES)
async def ask(
    req: AskRequest, request: Request, service: RagService = Depends(get_service)
) -> Answer:
    """Answer a question from the indexed articles, with citations."""
    history = [t.model_dump() for t in req.history]
    scope = req.scope(service)
    # a place in the queue from admission on, as for streams (fair between the two)
    reservation = service.gate.reserve()
    try:
        answer = await cancellable(
            request,
            lambda cancel: service.ask(
                req.question, req.top_k, history, cancel, reservation=reservation, scope=scope
            ),
        )
    finally:
        reservation.release()
    record_answer(request, answer)
    return answer


class RetrieveRequest(ScopeFields):
    question: str = Field(min_length=1, max_length=20000)
    top_k: int | None = Field(None, ge=1, le=50)


class RetrieveResponse(BaseModel):
    passages: list[Citation]
    retrieval_ms: float


@router.post("/retrieve", response_model=RetrieveResponse, responses=ERROR_RESPONSES)
def retrieve(
    req: RetrieveRequest, request: Request, service: RagService = Depends(get_service)
) -> RetrieveResponse:
    """Retrieval only: the passages a question would be answered from, best first."""
    passages, ms = service.search(req.question, req.top_k, req.scope(service))
    metrics = metrics_of(request)
    if metrics is not None:
        metrics.record_retrieval(ms)
    return RetrieveResponse(passages=passages, retrieval_ms=round(ms, 2))


@router.post(
    "/ask/stream",
    responses={
        200: {
            "description": "Server-sent events: `sources`, `token`…, `citations`, `done` "
            "(or `error`).",
            "content": {"text/event-stream": {}},
        },
        **ERROR_RESPONSES,
    },
)
async def ask_stream(
    req: AskRequest, request: Request, service: RagService = Depends(get_service)
) -> EventSourceResponse:
    """Stream the answer token by token, then its citations, then timings."""
    service.validate_question(req.question, req.top_k)  # 4xx before the stream starts
    scope = req.scope(service)
    # a place in the queue from now on: a full queue is a real 503, before the stream starts
    reservation = service.gate.reserve()
    cancel = threading.Event()
    history = [t.model_dump() for t in req.history]
    events = service.ask_stream(
        req.question, req.top_k, history, cancel, reservation=reservation, scope=scope
    )

    async def publish() -> AsyncIterator[dict[str, str]]:
        try:
            async for event in in_thread(events, cancel):
                if event.kind == "answer":
                    record_answer(request, event.data)
                for sse in _events_of(event):
                    yield sse
        except RagqaError as exc:
            yield _error_event(exc.code, exc.message, status_for(exc))
        except Exception as exc:  # the stream has started: say so in it, never just stop
            log.exception("unexpected error while streaming an answer")
            yield _error_event(
                "internal", f"internal error ({type(exc).__name__}); see the server log", 500
            )
        finally:
            cancel.set()  # a client that went away stops its generation at the next token
            reservation.release()  # if the answer never reached the model

    return ReleasingResponse(publish(), reservation, ping=15)


def _events_of(event: StreamEvent) -> list[dict[str, str]]:
    """The server-sent events of one answer event: ``token``, ``sources``, or for the
    answer ``citations`` (the answer without its timings) then ``done``."""
    if event.kind == "token":
        return [{"event": "token", "data": json.dumps({"text": event.data})}]
    if event.kind == "sources":
        return [{"event": "sources", "data": json.dumps([s.model_dump() for s in event.data])}]
    answer: Answer = event.data
    body = answer.model_dump()
    timings = body.pop("timings")
    done = {
        "timings": timings,
        "model": answer.model,
        "answerable": answer.answerable,
        "reason": answer.reason,
    }
    return [
        {"event": "citations", "data": json.dumps(body)},
        {"event": "done", "data": json.dumps(done)},
    ]


def _error_event(code: str, message: str, status: int) -> dict[str, str]:
    body = {"error": {"code": code, "message": message, "status": status}}
    return {"event": "error", "data": json.dumps(body)}
