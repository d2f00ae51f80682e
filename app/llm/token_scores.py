"""How sure the model was of each token it generated, read as it generates.

llama.cpp calls a *stopping criterion* after every token it samples, while the logits
that token was sampled from are still in the context. :class:`TokenScorer` is one that
never stops: it reads those logits, and when the next call shows which token was taken
(it is then the last of the input ids), records that token's probability. Cost: one
softmax over the vocabulary per token (well under a millisecond for 150k tokens).

The record is the model's own view of its answer: a figure the sources give for the very
thing asked comes out at a probability near 1; a figure picked among several that could
fit ("the sources give a price, but not this one") comes out far lower. The answer checks
read it (:class:`app.answer.checks.Unsure`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class TokenScore:
    """One generated token: its text and the probability the model gave it."""

    text: str
    probability: float


class TokenScorer:
    """A llama-cpp-python stopping criterion that records, never stops.

    ``logits`` returns the current logits row (the context's last output);
    ``detokenize`` turns token ids into text; ``n_prompt`` is the prompt's length in
    tokens, so only generated tokens are recorded."""

    def __init__(
        self,
        logits: Callable[[], Any],
        detokenize: Callable[[list[int]], str],
        n_prompt: int,
    ) -> None:
        self._logits = logits
        self._detokenize = detokenize
        self._n_prompt = n_prompt
        self._last: Any = None  # the distribution the latest token was sampled from
        self.ids: list[int] = []
        self.probabilities: list[float] = []

    def __call__(self, input_ids: Any, _scores: Any) -> bool:
        import numpy as np

        generated = len(input_ids) - self._n_prompt  # tokens taken and evaluated so far
        if self._last is not None and generated > len(self.ids):
            token = int(input_ids[-1])
            self.ids.append(token)
            self.probabilities.append(float(self._last[token]))
        logits = np.asarray(self._logits(), dtype=np.float32)
        e = np.exp(logits - logits.max())
        self._last = e / e.sum()
        return False

    def finish(self) -> list[TokenScore]:
        """The record, with the last token taken as the most likely one (no later call
        shows which it was; exact at temperature 0). Each token's text is cut from the
        text of all of them, so a character split over two tokens is not lost."""
        ids, probs = list(self.ids), list(self.probabilities)
        if self._last is not None:
            ids.append(int(self._last.argmax()))
            probs.append(float(self._last.max()))
        out, done = [], ""
        for i, p in enumerate(probs):
            text = self._detokenize(ids[: i + 1])
            out.append(TokenScore(text[len(done) :] if text.startswith(done) else "", p))
            done = text if text.startswith(done) else done
        return out


def least_sure(scores: Sequence[TokenScore], claims: Sequence[str]) -> float | None:
    """The least probability the model gave a token of any of ``claims``, each found
    (case-insensitively) at its first place in the text the scores spell out; None when
    no claim is found there."""
    spelled = "".join(s.text for s in scores)
    low = spelled.lower()
    spans = []
    for claim in claims:
        at = low.find(claim.lower()) if claim else -1
        if at >= 0:
            spans.append((at, at + len(claim)))
    if not spans:
        return None
    least, pos = None, 0
    for s in scores:
        start, pos = pos, pos + len(s.text)
        if any(start < b and pos > a for a, b in spans):
            least = s.probability if least is None else min(least, s.probability)
    return least
