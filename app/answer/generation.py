"""The generation stage: the model's tokens, behind the generation gate.

**A refusal the model was not sure of is reconsidered.** A small model often opens with
the refusal sentence it was told to give even when a source states the answer: its first
word was "The" (of "The sources do not…") at 0.43 against "According" at 0.33. When the
whole text is that sentence and the model gave one of its first two words a probability
below ``doubt`` (RAGQA_REFUSAL_DOUBT), its best other opening at that word is taken and
the model goes on from there; the answer checks then decide, as for any answer, whether a
source states what it says. The refusal's tokens are held back until the text parts from
the refusal sentence, so a reconsidered refusal is never streamed.

**The model's certainty is kept.** Given a ``scores`` list and a backend that can
(:class:`app.llm.base.ScoresTokens`), each token of the answer is recorded with the
probability the model gave it; a reconsidered opening counts at its own probability.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from app.answer.gate import GenerationGate, Reservation
from app.answer.types import Timings
from app.llm.base import LLM, Reconsiders, RenderedPrompt, ScoresTokens
from app.llm.token_scores import TokenScore


@dataclass
class Reconsidering:
    """When the model's text is exactly ``refusal`` and it was less sure of it than
    ``doubt``, go on from its second choice; ``refusal_probability`` records it."""

    refusal: str
    doubt: float
    refusal_probability: float | None = None
    opening: str = ""  # the second choice taken, when one was


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
    reconsider: Reconsidering | None = None,
    scores: list[TokenScore] | None = None,
) -> Iterator[str]:
    """Yield the answer's pieces; fills ``timings`` (ttft, generation, tokens) and, when
    given, ``scores`` (each token of the answer with its probability).

    One budget (``timeout``) for waiting in the queue and generating; a client that went
    away (``cancel``) leaves the queue or stops its generation.
    """
    deadline = time.monotonic() + timeout
    n = 0
    with gate.slot(timeout=deadline - time.monotonic(), cancel=cancel, reservation=reservation):
        t_gen = time.perf_counter()

        parts: list[list[TokenScore]] = []

        def sample(p: RenderedPrompt, budget: int) -> Iterator[str]:
            if scores is not None and isinstance(llm, ScoresTokens):
                parts.append([])
                return llm.stream_scored(
                    p,
                    parts[-1],
                    max_tokens=budget,
                    temperature=temperature,
                    cancel=cancel,
                    deadline=deadline,
                )
            return llm.stream(
                p, max_tokens=budget, temperature=temperature, cancel=cancel, deadline=deadline
            )

        pieces = sample(prompt, max_tokens)
        if reconsider is not None and reconsider.doubt > 0 and isinstance(llm, Reconsiders):
            pieces = _reconsidered(llm, prompt, pieces, reconsider, sample, max_tokens)
        for piece in pieces:
            if not n:
                timings.ttft_ms = round((time.perf_counter() - t_gen) * 1000, 2)
            n += 1
            yield piece
        timings.generation_ms = round((time.perf_counter() - t_gen) * 1000, 2)
        if scores is not None and parts:
            if reconsider is not None and reconsider.refusal_probability is not None:
                # the refusal was replaced: its second choice, then what followed it
                opening = TokenScore(reconsider.opening, reconsider.refusal_probability)
                scores[:] = [opening, *parts[-1]]
            else:
                scores[:] = parts[0]


def _reconsidered(
    llm: Reconsiders,
    prompt: RenderedPrompt,
    pieces: Iterator[str],
    how: Reconsidering,
    sample: Callable[[RenderedPrompt, int], Iterator[str]],
    max_tokens: int,
) -> Iterator[str]:
    """``pieces``, with the refusal sentence held back while the text may still be it;
    a whole refusal the model doubted is replaced by what follows its second choice."""
    held: list[str] = []
    for piece in pieces:
        held.append(piece)
        if not how.refusal.startswith("".join(held).strip()):
            yield from held
            yield from pieces  # the rest, as it comes
            return
    text = "".join(held).strip()
    choice = llm.second_choice(prompt, text) if text == how.refusal else None
    if choice is None or choice.probability >= how.doubt:
        yield from held
        return
    how.refusal_probability, how.opening = choice.probability, choice.text
    yield choice.text
    opening = RenderedPrompt(prompt.text + choice.text, prompt.tokens + choice.tokens, prompt.stop)
    yield from sample(opening, max(1, max_tokens - len(choice.tokens)))
