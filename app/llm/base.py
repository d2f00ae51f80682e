"""The generation backend contract: what the answer path needs from an LLM.

A backend implements :class:`LLM` and imports only this module (plus
:mod:`app.llm.chat_format` if it renders llama-cpp-python chat templates). Optional
abilities are small protocols of their own, checked with ``isinstance``:

- :class:`ReportsHealth`: the backend can say whether its server is reachable
  (``GET /health`` shows it as ``model_server``);
- :class:`Remote`: generation happens on another machine (``is_remote = True``);
- :class:`Reconsiders`: the backend can say how sure the model was of the opening of a text
  it just gave, and what it would most likely have said instead;
- :class:`ScoresTokens`: the backend can say how sure the model was of every token it
  generated (:mod:`app.llm.token_scores`).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from app.llm.token_scores import TokenScore

Message = dict[str, str]


@dataclass
class RenderedPrompt:
    """A chat prompt rendered to the text and tokens the model receives."""

    text: str
    tokens: list[int]
    stop: list[str]


class LLM(Protocol):
    """What the answer path needs from a generation backend."""

    @property
    def name(self) -> str: ...

    @property
    def n_ctx(self) -> int: ...

    def render(self, messages: Sequence[Message]) -> RenderedPrompt: ...

    def count_tokens(self, text: str) -> int: ...

    def stream(
        self,
        prompt: RenderedPrompt,
        *,
        max_tokens: int,
        temperature: float = 0.0,
        cancel: threading.Event | None = None,
        deadline: float | None = None,
    ) -> Iterator[str]:
        """Yield text pieces; raise ``Cancelled`` when ``cancel`` is set and
        ``GenerationTimeout`` past ``deadline`` (``time.monotonic()``)."""
        ...


@runtime_checkable
class ReportsHealth(Protocol):
    """Optional: a backend whose model server may be down."""

    def health(self) -> dict[str, Any]:
        """At least ``{"reachable": bool}``."""
        ...


@runtime_checkable
class Remote(Protocol):
    """Optional: a backend that generates on another machine."""

    is_remote: bool


@dataclass(frozen=True)
class SecondChoice:
    """Where the model was least sure of the opening of a text it gave: the text's own
    token probability there, and the opening it ranked next (the text's tokens before that
    point, then the model's most likely other token)."""

    probability: float
    tokens: list[int]
    text: str


@runtime_checkable
class Reconsiders(Protocol):
    """Optional: the backend can read the model's next-token probabilities."""

    def second_choice(
        self, prompt: RenderedPrompt, text: str, *, words: int = 2
    ) -> SecondChoice | None:
        """For ``text``, which the model just gave for ``prompt``: the least likely of the
        tokens of its first ``words`` words, and the model's best other token there."""
        ...


@runtime_checkable
class ScoresTokens(Protocol):
    """Optional: :meth:`LLM.stream`, recording each generated token with its probability."""

    def stream_scored(
        self,
        prompt: RenderedPrompt,
        scores: list[TokenScore],
        *,
        max_tokens: int,
        temperature: float = 0.0,
        cancel: threading.Event | None = None,
        deadline: float | None = None,
    ) -> Iterator[str]:
        """As ``stream``; when the generation ends, ``scores`` holds its tokens."""
        ...


def backend_health(llm: object) -> dict[str, Any] | None:
    """The backend's own health report, or None if it has none to give."""
    return llm.health() if isinstance(llm, ReportsHealth) else None


def is_remote(llm: object) -> bool:
    return isinstance(llm, Remote) and bool(llm.is_remote)
