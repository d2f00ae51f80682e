"""``/v1/chat/completions`` with ``stream: true``: ``chat.completion.chunk`` events as the
model writes, ending in ``data: [DONE]``."""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sse_starlette.sse import EventSourceResponse

from app.answer.gate import Reservation
from app.answer.service import RagService, StreamEvent
from app.answer.types import Answer
from app.api.errors import status_for
from app.api.metrics import Metrics
from app.api.openai_errors import openai_error
from app.api.openai_schema import (
    ChatCompletionRequest,
    extra_of,
    finish_reason,
    model_id,
    usage_of,
)
from app.api.threads import ReleasingResponse, in_thread
from app.errors import RagqaError
from app.retrieval.scope import Scope as DocumentScope

log = logging.getLogger("ragqa")


@dataclass
class CompletionChunks:
    """The ``chat.completion.chunk`` events of one completion (one id, one timestamp)."""

    model: str
    id: str = field(default_factory=lambda: f"chatcmpl-{uuid.uuid4().hex}")
    created: int = field(default_factory=lambda: int(time.time()))

    def delta(
        self, delta: dict[str, str], finish: str | None = None, **extra: Any
    ) -> dict[str, str]:
        choice = {"index": 0, "delta": delta, "finish_reason": finish}
        return self._event({"choices": [choice], **extra})

    def usage_only(self, usage: dict[str, Any]) -> dict[str, str]:
        """The extra last chunk ``stream_options.include_usage`` asks for."""
        return self._event({"choices": [], "usage": usage})

    def _event(self, fields: dict[str, Any]) -> dict[str, str]:
        head = {"id": self.id, "object": "chat.completion.chunk", "created": self.created}
        return {"data": json.dumps({**head, "model": self.model, **fields})}


def stream_completion(
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
    chunks = CompletionChunks(model_id(service))
    include_usage = bool(req.stream_options and req.stream_options.include_usage)

    def closing(answer: Answer, streamed: list[str]) -> Iterator[dict[str, str]]:
        if metrics is not None:
            metrics.record_answer(answer)
        yield from _closing_chunks(
            chunks, answer, streamed, finish_reason(answer, cap, service.settings.max_tokens)
        )
        if include_usage:
            yield chunks.usage_only(usage_of(answer.timings).model_dump())

    publish = _publish(chunks, events, cancel, reservation, closing)
    return ReleasingResponse(publish, reservation, ping=15)


def _closing_chunks(
    chunks: CompletionChunks, answer: Answer, streamed: list[str], finish: str
) -> Iterator[dict[str, str]]:
    """What follows the streamed tokens: the checked answer if it differs from them, then
    the chunk with the finish reason, usage, citations and ragqa's extras."""
    text = "".join(streamed).strip()
    if not text:
        yield chunks.delta({"content": answer.answer})
    elif not answer.answerable and answer.answer not in text:
        yield chunks.delta({"content": f"\n\n{answer.answer}"})
    extra = extra_of(answer).model_dump()
    extra["answer"] = answer.answer
    yield chunks.delta(
        {},
        finish,
        usage=usage_of(answer.timings).model_dump(),
        citations=[c.model_dump() for c in answer.citations],
        ragqa=extra,
    )


async def _publish(
    chunks: CompletionChunks,
    events: Iterator[StreamEvent],
    cancel: threading.Event,
    reservation: Reservation,
    closing: Callable[[Answer, list[str]], Iterator[dict[str, str]]],
) -> AsyncIterator[dict[str, str]]:
    streamed: list[str] = []
    try:
        yield chunks.delta({"role": "assistant", "content": ""})
        async for event in in_thread(events, cancel):
            if event.kind == "token":
                streamed.append(event.data)
                yield chunks.delta({"content": event.data})
            elif event.kind == "answer":
                for chunk in closing(event.data, streamed):
                    yield chunk
    except RagqaError as exc:
        yield {"data": json.dumps(openai_error(exc.code, exc.message, status_for(exc)))}
    except Exception as exc:  # the stream has started: say so in it, never just stop
        log.exception("unexpected error while streaming a completion")
        message = f"internal error ({type(exc).__name__}); see the server log"
        yield {"data": json.dumps(openai_error("internal", message, 500))}
    finally:
        cancel.set()
        reservation.release()  # if the answer never reached the model
    yield {"data": "[DONE]"}
