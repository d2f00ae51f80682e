"""How sure the model was of its claim, and the answer check that reads it.

As the model generates, ragqa records the probability it gave each token
(app/llm/token_scores.py). The answer check `unsure` (app/answer/checks.py) withholds an
answer when a token of its claim, the figures and names it adds to the question, came out
below RAGQA_MIN_CERTAINTY: a small model that copies the figure the sources give for the
thing asked is sure of it; one that picks a figure for something the sources never give
is not. The recording is tested against real llama.cpp and the tiny GGUF (each
probability is the one a fresh context gives the same token); the check's arithmetic
with scores written out by hand.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import numpy as np
import pytest

from app.answer.checks import AnswerContext, Unsure
from app.answer.gate import GenerationGate
from app.answer.generation import Reconsidering, generate
from app.answer.prompt import REFUSAL
from app.answer.types import Timings
from app.llm.base import RenderedPrompt
from app.llm.local import LocalLLM
from app.llm.model_files import tiny_model_path
from app.llm.token_scores import TokenScore, TokenScorer, least_sure
from tests.support import answer_context, one_source
from tests.test_reconsider import PROMPT, REFUSAL_PIECES, UNSURE, ScriptedModel

PASSAGE = "Vellum raised 3.4 billion dukats in 2023. Arkon charges 2,140 dukats per kWh."


def _scores(*pairs: tuple[str, float]) -> list[TokenScore]:
    return [TokenScore(t, p) for t, p in pairs]


# --- finding the claim among the tokens -------------------------------------------------


def test_the_least_probability_over_the_tokens_of_any_claim() -> None:
    scores = _scores(("Vel", 0.9), ("lum", 0.99), (" raised", 0.8), (" 3", 0.3), (".", 0.6))
    scores += _scores(("4", 0.95), (" billion", 0.97), (" dukats", 0.9), (".", 0.4))
    assert least_sure(scores, ["3.4"]) == 0.3
    assert least_sure(scores, ["vellum"]) == 0.9  # case-insensitive, both tokens of it
    assert least_sure(scores, ["3.4", "vellum"]) == 0.3
    # the full stop that ends the sentence (0.4) is no part of a claim
    assert least_sure(scores, ["dukats"]) == 0.9


def test_no_claim_found_among_the_tokens_is_no_figure() -> None:
    scores = _scores(("Vellum", 0.9), (" raised", 0.8))
    assert least_sure(scores, ["2,140"]) is None
    assert least_sure(scores, []) is None
    assert least_sure([], ["vellum"]) is None


# --- recording as llama.cpp calls it ----------------------------------------------------


class Logits:
    """A scripted logits row per call, as the context holds it after each token."""

    def __init__(self, rows: list[list[float]]) -> None:
        self.rows, self.i = rows, -1

    def __call__(self) -> np.ndarray:
        self.i += 1
        return np.array(self.rows[self.i], dtype=np.float32)


def test_each_token_gets_the_probability_of_the_row_it_was_taken_from() -> None:
    vocab = ["a", "b", "c"]
    rows = [[2.0, 0.0, 0.0], [0.0, 0.0, 3.0], [0.0, 1.0, 0.0]]
    scorer = TokenScorer(Logits(rows), lambda ids: "".join(vocab[i] for i in ids), n_prompt=2)
    # llama.cpp calls after each sampled token; the ids then end with the tokens taken
    # and evaluated so far (the prompt is 2 tokens: 7, 7)
    assert scorer([7, 7], None) is False  # token 0 sampled from row 0, not yet known
    scorer([7, 7, 0], None)  # "a" was taken from row 0
    scorer([7, 7, 0, 2], None)  # "c" from row 1; token 2 comes from row 2
    soft = [np.exp(r) / np.exp(r).sum() for r in map(np.array, rows)]
    got = scorer.finish()
    assert [s.text for s in got] == ["a", "c", "b"]  # the last: row 2's most likely
    assert [s.probability for s in got] == pytest.approx(
        [soft[0][0], soft[1][2], soft[2][1]], rel=1e-5
    )


# --- the answer check -------------------------------------------------------------------


def _ctx(answer: str, scores: list[TokenScore], question: str) -> AnswerContext:
    ctx = answer_context(question, [one_source(PASSAGE, "Batteries")], answer)
    return replace(ctx, scores=scores)


def _spelled(text: str, unsure_of: str, p: float) -> list[TokenScore]:
    """``text`` one word per token at 0.95, the word ``unsure_of`` at ``p``."""
    words = text.split(" ")
    return [
        TokenScore(("" if i == 0 else " ") + w, p if w.strip(".,") == unsure_of else 0.95)
        for i, w in enumerate(words)
    ]


def test_an_unsure_figure_is_withheld_with_its_reason() -> None:
    answer = "Vellum charges 2,140 dukats per kWh [1]."
    check = Unsure(0.2)
    ctx = _ctx(answer, _spelled(answer, "2,140", 0.04), "What does Vellum charge per kWh?")
    verdict = check(ctx)
    assert verdict is not None and "0.04" in verdict.detail and "2,140" in verdict.detail
    assert ctx.notes["certainty"] == pytest.approx(0.04)
    assert check.name == "unsure"


def test_a_sure_answer_passes_and_keeps_its_certainty() -> None:
    answer = "Vellum raised 3.4 billion dukats in 2023 [1]."
    ctx = _ctx(answer, _spelled(answer, "3.4", 0.9), "How much did Vellum raise?")
    assert Unsure(0.2)(ctx) is None
    assert ctx.notes["certainty"] == pytest.approx(0.9)


def test_unsure_words_outside_the_claim_do_not_count() -> None:
    answer = "According to the sources, Vellum raised 3.4 billion dukats [1]."
    ctx = _ctx(answer, _spelled(answer, "According", 0.01), "How much did Vellum raise?")
    assert Unsure(0.2)(ctx) is None


def test_without_scores_the_check_lets_the_answer_through() -> None:
    answer = "Vellum charges 2,140 dukats per kWh [1]."
    assert Unsure(0.2)(_ctx(answer, [], "What does Vellum charge per kWh?")) is None


# --- the real model ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny() -> LocalLLM:
    return LocalLLM(tiny_model_path(), n_ctx=1024, n_threads=2, repeat_penalty=1.0)


def test_recorded_probabilities_are_the_models_own(tiny: LocalLLM) -> None:
    prompt = tiny.render([{"role": "user", "content": "Name three colours of the rainbow."}])
    scores: list[TokenScore] = []
    text = "".join(tiny.stream_scored(prompt, scores, max_tokens=12))
    assert "".join(s.text for s in scores) == text
    assert all(0.0 < s.probability <= 1.0 for s in scores)
    # a fresh context, fed the same tokens, gives each the same probability
    tokens = tiny.tokenize(text)
    fresh = LocalLLM(tiny_model_path(), n_ctx=1024, n_threads=2)
    fresh.llama.eval(prompt.tokens)
    for token, score in list(zip(tokens, scores, strict=False))[:6]:
        logits = np.ctypeslib.as_array(
            fresh.llama._ctx.get_logits(), shape=(fresh.llama.n_vocab(),)
        )
        p = np.exp(logits.astype(np.float64) - logits.max())
        assert score.probability == pytest.approx(float(p[token] / p.sum()), abs=2e-3)
        fresh.llama.eval([token])


def test_plain_streaming_is_unchanged_by_scoring(tiny: LocalLLM) -> None:
    prompt = tiny.render([{"role": "user", "content": "Count to five."}])
    plain = "".join(tiny.stream(prompt, max_tokens=12))
    scores: list[TokenScore] = []
    assert "".join(tiny.stream_scored(prompt, scores, max_tokens=12)) == plain


# --- a reconsidered refusal -------------------------------------------------------------


class ScoredScript(ScriptedModel):
    """The scripted model of tests/test_reconsider.py, scoring each piece it says at 0.9."""

    def stream_scored(
        self, prompt: RenderedPrompt, scores: list[TokenScore], **kw: Any
    ) -> Iterator[str]:
        for piece in self.stream(prompt, **kw):
            scores.append(TokenScore(piece, 0.9))
            yield piece


def _scored(model: ScoredScript) -> list[TokenScore]:
    scores: list[TokenScore] = []
    pieces = generate(
        model, PROMPT, GenerationGate(), Timings(), max_tokens=64, temperature=0.0,
        timeout=30.0, reconsider=Reconsidering(REFUSAL, 0.5), scores=scores,
    )  # fmt: skip
    list(pieces)
    return scores


def test_a_reconsidered_opening_counts_at_its_own_probability() -> None:
    scores = _scored(ScoredScript(REFUSAL_PIECES, UNSURE, " to [1], six."))
    # the refusal's own tokens are dropped; the second choice keeps its probability
    assert scores == [TokenScore("According", 0.43), TokenScore(" to [1], six.", 0.9)]


def test_an_answer_given_at_once_keeps_its_own_scores() -> None:
    scores = _scored(ScoredScript(["According", " to [1], six."], UNSURE))
    assert scores == [TokenScore("According", 0.9), TokenScore(" to [1], six.", 0.9)]
