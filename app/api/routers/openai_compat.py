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

Here: the routes. The bodies are in :mod:`app.api.openai_schema`, the streamed completion
in :mod:`app.api.openai_stream`, the error shape in :mod:`app.api.openai_errors`.
"""

from __future__ import annotations

import base64
import time
import uuid
from typing import Any

import anyio
import numpy as np
from fastapi import APIRouter, Depends, HTTPException, Request

from app.answer.service import RagService
from app.api.deps import get_service, require_read
from app.api.errors import ERROR_RESPONSES
from app.api.metrics import metrics_of, record_answer
from app.api.openai_schema import (
    MAX_EMBED_CHARS,
    MAX_EMBED_INPUTS,
    AssistantMessage,
    ChatCompletion,
    ChatCompletionRequest,
    Choice,
    EmbeddingItem,
    EmbeddingList,
    EmbeddingRequest,
    EmbeddingUsage,
    ModelCard,
    ModelList,
    extra_of,
    finish_reason,
    model_id,
    question_and_history,
    usage_of,
)
from app.api.openai_stream import stream_completion
from app.api.threads import cancellable
from app.errors import BadInput

router = APIRouter(prefix="/v1", tags=["openai"], dependencies=[Depends(require_read)])


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
    question, history = question_and_history(req)
    cap = req.max_completion_tokens or req.max_tokens
    service.validate_question(question, req.top_k)  # 4xx before any work
    scope = req.scope(service)
    if req.stream:
        return stream_completion(req, question, history, cap, service, scope, metrics_of(request))
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
                finish_reason=finish_reason(answer, cap, service.settings.max_tokens),
            )
        ],
        usage=usage_of(answer.timings),
        citations=answer.citations,
        ragqa=extra_of(answer),
    )


# --- embeddings -------------------------------------------------------------------------------
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
