"""The generation stage: the model's tokens, behind the generation gate."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

from app.answer.gate import GenerationGate, Reservation
from app.answer.types import Timings
from app.llm.base import LLM, RenderedPrompt


def generate(
    llm: LLM,
    prompt: RenderedPrompt,
    gate: GenerationGate,
    timings: Timings,
    *,
    max_tokens: int,
    temperature: float,
    timeout: float,
    cancel: threading.Event | None = None,
    reservation: Reservation | None = None,
) -> Iterator[str]:
    """Yield the answer's pieces; fills ``timings`` (ttft, generation, tokens).

    One budget (``timeout``) for waiting in the queue and generating; a client that went
    away (``cancel``) leaves the queue or stops its generation.
    """
    deadline = time.monotonic() + timeout
    n = 0
    with gate.slot(timeout=deadline - time.monotonic(), cancel=cancel, reservation=reservation):
        t_gen = time.perf_counter()
        for piece in llm.stream(
            prompt,
            max_tokens=max_tokens,
            temperature=temperature,
            cancel=cancel,
            deadline=deadline,
        ):
            if not n:
                timings.ttft_ms = round((time.perf_counter() - t_gen) * 1000, 2)
            n += 1
            yield piece
        timings.generation_ms = round((time.perf_counter() - t_gen) * 1000, 2)
