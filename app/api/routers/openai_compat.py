"""OpenAI-compatible endpoints: ``/v1/chat/completions``, ``/v1/models``, ``/v1/embeddings``.

Chat clients and SDKs that speak the OpenAI API can use ragqa as they are. A chat
completion is an answer from the articles: the last user message is the question, the
earlier user and assistant turns are the conversation (``history``), system messages are
ignored (ragqa's own system prompt keeps answers grounded). ``choices[0].message.content``
holds the answer with its ``[n]`` markers; the extra top-level fields ``citations`` (the
cited passages) and ``ragqa`` (answerable, reason, every source given to the model,
timings) carry the rest, and standard clients ignore them.

Thin on purpose: answers come from :meth:`RagService.ask` / :meth:`RagService.ask_stream`,
auth is the same ``require_read`` as ``/api/ask``. Errors under ``/v1`` carry OpenAI's
``type`` and ``param`` besides ragqa's ``code``, ``message`` and ``status``, so OpenAI
clients raise their usual exceptions (``BadRequestError``, ``AuthenticationError``, …).
"""

from __future__ import annotations

import base64
import json
import threading
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, Literal

import anyio
import numpy as np
from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel, ConfigDict, Field
from sse_starlette.sse import EventSourceResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.answer.service import RagService
from app.answer.types import Answer, Citation, Timings
from app.api.deps import get_service, require_read
from app.api.errors import ERROR_RESPONSES, status_for
from app.api.metrics import Metrics, metrics_of, record_answer
from app.api.routers.ask import ScopeFields, _ReleasingResponse
from app.api.threads import cancellable, in_thread
from app.errors import BadInput, RagqaError
from app.retrieval.scope import Scope as DocumentScope

router = APIRouter(prefix="/v1", tags=["openai"], dependencies=[Depends(require_read)])

MAX_MESSAGES = 64
MAX_MESSAGE_CHARS = 20_000
MAX_EMBED_INPUTS = 128
MAX_EMBED_CHARS = 8_000


# --- errors in OpenAI's shape ---------------------------------------------------------------
OPENAI_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    409: "conflict_error",
    413: "invalid_request_error",
    415: "invalid_request_error",
    422: "invalid_request_error",
    429: "rate_limit_error",
}


def openai_error_type(status: int) -> str:
    return OPENAI_ERROR_TYPES.get(
        status, "server_error" if status >= 500 else "invalid_request_error"
    )


def openai_error(code: str, message: str, status: int) -> dict[str, Any]:
    return {
        "error": {
            "message": message,
            "type": openai_error_type(status),
            "param": None,
            "code": code,
            "status": status,
        }
    }


class OpenAIErrorShape:
    """ASGI middleware: an error response under ``/v1`` gains OpenAI's ``type`` and
    ``param`` (ragqa's ``code``, ``message`` and ``status`` stay). Error bodies are small
    and buffered; successful and streaming responses pass through untouched."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if not path.startswith("/v1/"):
            await self.app(scope, receive, send)
            return
        start: Message | None = None
        chunks: list[bytes] = []

        async def shaped_send(msg: Message) -> None:
            nonlocal start
            if msg["type"] == "http.response.start" and msg["status"] >= 400:
                start = msg
                return
            if start is None or msg["type"] != "http.response.body":
                await send(msg)
                return
            chunks.append(msg.get("body", b""))
            if msg.get("more_body"):
                return
            body = _reshape(b"".join(chunks), start["status"])
            headers = [(k, v) for k, v in start["headers"] if k.lower() != b"content-length"]
            headers.append((b"content-length", str(len(body)).encode()))
            await send({**start, "headers": headers})
            await send({"type": "http.response.body", "body": body})

        await self.app(scope, receive, shaped_send)


def _reshape(body: bytes, status: int) -> bytes:
    try:
        data = json.loads(body)
        err = data["error"]
        code, message = str(err.get("code", "error")), str(err.get("message", ""))
    except (ValueError, KeyError, TypeError, AttributeError):
        return body
    return json.dumps(openai_error(code, message, int(err.get("status", status)))).encode()


# --- models ---------------------------------------------------------------------------------
class ModelCard(BaseModel):
    id: str
    object: Literal["model"] = "model"
    created: int = 0
    owned_by: str = "ragqa"


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[ModelCard]


def model_id(service: RagService) -> str:
    """The GGUF file stem for the in-process model, the server's id for a remote one."""
    if service.llm is None:
        return "ragqa"
    name = service.llm.name
    return Path(name).stem if name.endswith(".gguf") else name


@router.get("/models", response_model=ModelList, responses=ERROR_RESPONSES)
def list_models(service: RagService = Depends(get_service)) -> ModelList:
    """The model ragqa answers with (one)."""
    return ModelList(data=[ModelCard(id=model_id(service))] if service.llm else [])


@router.get("/models/{model:path}", response_model=ModelCard, responses=ERROR_RESPONSES)
def get_model(model: str, service: RagService = Depends(get_service)) -> ModelCard:
    if service.llm is None or model != model_id(service):
        raise HTTPException(404, f"no model {model!r}; GET /v1/models lists the one ragqa serves")
    return ModelCard(id=model)


# --- chat completions -------------------------------------------------------------------------
class ContentPart(BaseModel):
    model_config = ConfigDict(extra="allow")
    type: str
    text: str | None = None


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="allow")
    role: Literal["system", "developer", "user", "assistant", "tool", "function"]
    content: str | list[ContentPart] | None = None

    def text(self) -> str:
        if self.content is None or isinstance(self.content, str):
            return self.content or ""
        parts = []
        for p in self.content:
            if p.type != "text":
                raise BadInput(f"only text message parts are supported, not {p.type!r}")
            parts.append(p.text or "")
        return "\n".join(parts)


class StreamOptions(BaseModel):
    include_usage: bool = False


class ChatCompletionRequest(ScopeFields):
    """OpenAI's request; fields ragqa does not use (temperature, tools, …) are accepted
    and ignored: answers follow the server's RAGQA_TEMPERATURE and seed."""

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "examples": [
                {
                    "model": "ragqa",
                    "messages": [
                        {"role": "user", "content": "How many tokens was Llama 2 trained on?"}
                    ],
                }
            ]
        },
    )
    model: str | None = Field(None, description="Any value; ragqa answers with its own model.")
    messages: list[ChatMessage] = Field(min_length=1, max_length=MAX_MESSAGES)
    stream: bool = False
    stream_options: StreamOptions | None = None
    max_tokens: int | None = Field(None, ge=1, description="Capped by RAGQA_MAX_TOKENS.")
    max_completion_tokens: int | None = Field(None, ge=1)
    n: int = Field(1, ge=1, le=1, description="Only one choice.")
    top_k: int | None = Field(None, ge=1, le=50, description="ragqa: passages to retrieve.")


class Usage(BaseModel):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class AssistantMessage(BaseModel):
    role: Literal["assistant"] = "assistant"
    content: str


class Choice(BaseModel):
    index: int = 0
    message: AssistantMessage
    finish_reason: Literal["stop", "length"]


class RagqaExtra(BaseModel):
    answerable: bool
    reason: str
    sources: list[Citation]
    timings: Timings
    retrieval_query: str | None = None


class ChatCompletion(BaseModel):
    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    choices: list[Choice]
    usage: Usage
    citations: list[Citation] = Field(description="ragqa: the passages the answer cites.")
    ragqa: RagqaExtra


def _question_and_history(req: ChatCompletionRequest) -> tuple[str, list[dict[str, str]]]:
    texts = [(m.role, m.text()) for m in req.messages]
    for role, text in texts:
        if len(text) > MAX_MESSAGE_CHARS:
            raise BadInput(
                f"a {role} message is {len(text)} characters; the limit is {MAX_MESSAGE_CHARS}"
            )
    role, question = texts[-1]
    if role != "user":
        raise BadInput("the last message must be the user's question (role 'user')")
    history = [{"role": r, "content": t} for r, t in texts[:-1] if r in ("user", "assistant") and t]
    return question, history


def _usage(t: Timings) -> Usage:
    return Usage(
        prompt_tokens=t.prompt_tokens,
        completion_tokens=t.completion_tokens,
        total_tokens=t.prompt_tokens + t.completion_tokens,
    )


def _finish_reason(answer: Answer, cap: int | None, settings_cap: int) -> Literal["stop", "length"]:
    limit = min(cap, settings_cap) if cap else settings_cap
    return "length" if answer.timings.completion_tokens >= limit else "stop"


def _extra(answer: Answer) -> RagqaExtra:
    return RagqaExtra(
        answerable=answer.answerable,
        reason=answer.reason,
        sources=answer.sources,
        timings=answer.timings,
        retrieval_query=answer.retrieval_query,
    )


@router.post(
    "/chat/completions",
    response_model=ChatCompletion,
    responses={
        200: {
            "description": "A chat completion, or with `stream: true` server-sent "
            "`chat.completion.chunk` events ending in `data: [DONE]`.",
            "content": {"text/event-stream": {}},
        },
        **ERROR_RESPONSES,
    },
)
async def chat_completions(
    req: ChatCompletionRequest, request: Request, service: RagService = Depends(get_service)
) -> Any:
    """Answer the last user message from the articles, OpenAI style, with citations."""
    question, history = _question_and_history(req)
    cap = req.max_completion_tokens or req.max_tokens
    service.validate_question(question, req.top_k)  # 4xx before any work
    scope = req.scope(service)
    if req.stream:
        return _stream(req, question, history, cap, service, scope, metrics_of(request))
    # a place in the queue from admission on, as for /api/ask: a full queue is a real 503
    reservation = service.gate.reserve()
    try:
        answer = await cancellable(
            request,
            lambda cancel: service.ask(
                question,
                req.top_k,
                history,
                cancel,
                max_tokens=cap,
                reservation=reservation,
                scope=scope,
            ),
        )
    finally:
        reservation.release()
    record_answer(request, answer)
    return ChatCompletion(
        id=f"chatcmpl-{uuid.uuid4().hex}",
        created=int(time.time()),
        model=model_id(service),
        choices=[
            Choice(
                message=AssistantMessage(content=answer.answer),
                finish_reason=_finish_reason(answer, cap, service.settings.max_tokens),
            )
        ],
        usage=_usage(answer.timings),
        citations=answer.citations,
        ragqa=_extra(answer),
    )


def _stream(
    req: ChatCompletionRequest,
    question: str,
    history: list[dict[str, str]],
    cap: int | None,
    service: RagService,
    scope: DocumentScope | None = None,
    metrics: Metrics | None = None,
) -> EventSourceResponse:
    """Tokens as ``delta.content`` chunks as the model writes them; the last chunk has the
    ``finish_reason``, ``usage``, ``citations`` and ``ragqa`` (whose ``answer`` is the checked
    text). When ragqa's checks replace what was streamed (a figure no source states, a
    refusal without model output), the replacement follows as a last content delta."""
    # a place in the queue from now on: a full queue is a real 503 before the stream starts,
    # never an error inside a 200 stream
    reservation = service.gate.reserve()
    cancel = threading.Event()
    events = service.ask_stream(
        question,
        req.top_k,
        history,
        cancel,
        max_tokens=cap,
        reservation=reservation,
        scope=scope,
    )
    cid, created, model = f"chatcmpl-{uuid.uuid4().hex}", int(time.time()), model_id(service)

    def chunk(delta: dict[str, str], finish: str | None = None, **extra: Any) -> dict[str, str]:
        body = {
            "id": cid,
            "object": "chat.completion.chunk",
            "created": created,
            "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
            **extra,
        }
        return {"data": json.dumps(body)}

    async def publish() -> AsyncIterator[dict[str, str]]:
        streamed: list[str] = []
        try:
            yield chunk({"role": "assistant", "content": ""})
            async for event in in_thread(events, cancel):
                if event.kind == "token":
                    streamed.append(event.data)
                    yield chunk({"content": event.data})
                elif event.kind == "answer":
                    answer: Answer = event.data
                    if metrics is not None:
                        metrics.record_answer(answer)
                    text = "".join(streamed).strip()
                    if not text:
                        yield chunk({"content": answer.answer})
                    elif not answer.answerable and answer.answer not in text:
                        yield chunk({"content": f"\n\n{answer.answer}"})
                    extra = _extra(answer).model_dump()
                    extra["answer"] = answer.answer
                    usage = _usage(answer.timings).model_dump()
                    yield chunk(
                        {},
                        _finish_reason(answer, cap, service.settings.max_tokens),
                        usage=usage,
                        citations=[c.model_dump() for c in answer.citations],
                        ragqa=extra,
                    )
                    if req.stream_options and req.stream_options.include_usage:
                        yield {
                            "data": json.dumps(
                                {
                                    "id": cid,
                                    "object": "chat.completion.chunk",
                                    "created": created,
                                    "model": model,
                                    "choices": [],
                                    "usage": usage,
                                }
                            )
                        }
        except RagqaError as exc:
            yield {"data": json.dumps(openai_error(exc.code, exc.message, status_for(exc)))}
        except Exception as exc:  # the stream has started: say so in it, never just stop
            import logging

            logging.getLogger("ragqa").exception("unexpected error while streaming a completion")
            yield {
                "data": json.dumps(
                    openai_error(
                        "internal",
                        f"internal error ({type(exc).__name__}); see the server log",
                        500,
                    )
                )
            }
        finally:
            cancel.set()
            reservation.release()  # if the answer never reached the model
        yield {"data": "[DONE]"}

    return _ReleasingResponse(publish(), reservation, ping=15)


# --- embeddings -------------------------------------------------------------------------------
class EmbeddingRequest(BaseModel):
    model_config = ConfigDict(extra="allow")
    input: str | list[str] = Field(description="A text or a list of texts (not token ids).")
    model: str | None = Field(None, description="Any value; the configured embedder is used.")
    encoding_format: Literal["float", "base64"] = "float"
    dimensions: int | None = Field(None, ge=1)


class EmbeddingItem(BaseModel):
    object: Literal["embedding"] = "embedding"
    index: int
    embedding: list[float] | str


class EmbeddingUsage(BaseModel):
    prompt_tokens: int
    total_tokens: int


class EmbeddingList(BaseModel):
    object: Literal["list"] = "list"
    data: list[EmbeddingItem]
    model: str
    usage: EmbeddingUsage


@router.post("/embeddings", response_model=EmbeddingList, responses=ERROR_RESPONSES)
async def embeddings(
    req: EmbeddingRequest, service: RagService = Depends(get_service)
) -> EmbeddingList:
    """Normalised vectors from ragqa's embedder (the one its index is built with)."""
    texts = [req.input] if isinstance(req.input, str) else list(req.input)
    if not texts:
        raise BadInput("input is empty: send a text or a list of texts")
    if len(texts) > MAX_EMBED_INPUTS:
        raise BadInput(f"input has {len(texts)} texts; the limit is {MAX_EMBED_INPUTS} a request")
    for i, t in enumerate(texts):
        if not t.strip():
            raise BadInput(f"input[{i}] is empty")
        if len(t) > MAX_EMBED_CHARS:
            raise BadInput(f"input[{i}] is {len(t)} characters; the limit is {MAX_EMBED_CHARS}")
    embedder = service.embedder
    if req.dimensions is not None and req.dimensions != embedder.dim:
        raise BadInput(
            f"this embedder gives {embedder.dim} dimensions; it cannot give {req.dimensions}"
        )

    def work() -> tuple[np.ndarray, int]:
        vectors = embedder.embed(texts)
        limit = embedder.max_seq_length
        tokens = sum(min(n, limit) for n in embedder.count_tokens(texts))
        return vectors, tokens

    vectors, tokens = await anyio.to_thread.run_sync(work)
    data = [
        EmbeddingItem(
            index=i,
            embedding=base64.b64encode(v.astype("<f4").tobytes()).decode("ascii")
            if req.encoding_format == "base64"
            else [float(x) for x in v],
        )
        for i, v in enumerate(vectors)
    ]
    name = embedder.name.removeprefix("bundled:")
    return EmbeddingList(
        data=data, model=name, usage=EmbeddingUsage(prompt_tokens=tokens, total_tokens=tokens)
    )
