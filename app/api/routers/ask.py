"""POST /api/ask and POST /api/ask/stream."""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import AsyncIterator
from typing import Literal

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field
from sse_starlette.sse import EventSourceResponse
from starlette.concurrency import iterate_in_threadpool

from app.answer.service import RagService
from app.answer.types import Answer, Citation
from app.api.deps import get_service, require_read
from app.api.errors import ERROR_RESPONSES
from app.errors import Busy, RagqaError

router = APIRouter(prefix="/api", tags=["ask"], dependencies=[Depends(require_read)])


class Turn(BaseModel):
    role: Literal["user", "assistant"]
    content: str = Field(max_length=8000)


class AskRequest(BaseModel):
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


@router.post("/ask", response_model=Answer, responses=ERROR_RESPONSES)
def ask(req: AskRequest, service: RagService = Depends(get_service)) -> Answer:
    """Answer a question from the indexed articles, with citations."""
    history = [t.model_dump() for t in req.history]
    return service.ask(req.question, req.top_k, history)


class RetrieveRequest(BaseModel):
    question: str = Field(min_length=1, max_length=20000)
    top_k: int | None = Field(None, ge=1, le=50)


class RetrieveResponse(BaseModel):
    passages: list[Citation]
    retrieval_ms: float


@router.post("/retrieve", response_model=RetrieveResponse, responses=ERROR_RESPONSES)
def retrieve(req: RetrieveRequest, service: RagService = Depends(get_service)) -> RetrieveResponse:
    """Retrieval only: the passages a question would be answered from, best first."""
    passages, ms = service.search(req.question, req.top_k)
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
    req: AskRequest, service: RagService = Depends(get_service)
) -> EventSourceResponse:
    """Stream the answer token by token, then its citations, then timings."""
    service.validate_question(req.question, req.top_k)  # 4xx before the stream starts
    if service.gate.active and service.gate.waiting >= service.gate.max_queue:
        raise Busy(
            f"the server is busy answering other questions; retry in {service.gate.retry_after()} s",
            retry_after=service.gate.retry_after(),
        )
    cancel = threading.Event()
    history = [t.model_dump() for t in req.history]
    events = service.ask_stream(req.question, req.top_k, history, cancel)

    async def publish() -> AsyncIterator[dict[str, str]]:
        try:
            async for event in iterate_in_threadpool(events):
                if event.kind == "token":
                    yield {"event": "token", "data": json.dumps({"text": event.data})}
                elif event.kind == "sources":
                    yield {
                        "event": "sources",
                        "data": json.dumps([s.model_dump() for s in event.data]),
                    }
                else:
                    answer: Answer = event.data
                    body = answer.model_dump()
                    timings = body.pop("timings")
                    yield {"event": "citations", "data": json.dumps(body)}
                    yield {
                        "event": "done",
                        "data": json.dumps(
                            {
                                "timings": timings,
                                "model": answer.model,
                                "answerable": answer.answerable,
                                "reason": answer.reason,
                            }
                        ),
                    }
        except RagqaError as exc:
            from app.api.errors import status_for

            yield {
                "event": "error",
                "data": json.dumps(
                    {"error": {"code": exc.code, "message": exc.message, "status": status_for(exc)}}
                ),
            }
        finally:
            cancel.set()  # a client that went away stops its generation at the next token
            # ...and the suspended generator is closed now, not whenever the garbage collector
            # gets to it: until then it would keep the model's gate (and its lock) held, and
            # every later question would wait. No thread is inside it here: a cancelled
            # iterate_in_threadpool waits for the running next() to return first.
            close = getattr(events, "close", None)
            if close is not None:
                with contextlib.suppress(ValueError):  # "generator already executing"
                    close()

    return EventSourceResponse(publish(), ping=15)
