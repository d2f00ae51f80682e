"""The fixed prompt prefix's KV cache survives a restart (app/llm/prefix_cache.py): the
second start restores it instead of computing it, and answers exactly as the first did.
Real llama.cpp with the tiny GGUF."""

from __future__ import annotations

from pathlib import Path

from app.answer.prompt import build_messages
from app.llm.base import RenderedPrompt
from app.llm.local import LocalLLM
from app.llm.model_files import tiny_model_path

QUESTION = [{"role": "user", "content": "Question: Who owns the ferry?\nAnswer briefly."}]


def _llm(n_ctx: int = 1024) -> LocalLLM:
    return LocalLLM(tiny_model_path(), n_ctx=n_ctx, n_threads=2)


def _answer(llm: LocalLLM) -> str:
    system = build_messages("x", [])[0]
    return "".join(llm.stream(llm.render([system, *QUESTION]), max_tokens=24))


def _prefix(llm: LocalLLM) -> RenderedPrompt:
    return llm.render(build_messages("Hello", []))


def test_a_restart_restores_the_prefix_and_answers_the_same(tmp_path: Path) -> None:
    first = _llm()
    assert first.warm(_prefix(first), tmp_path) == "computed"
    saved = list(tmp_path.iterdir())
    assert len(saved) == 1 and saved[0].stat().st_size > 10_000
    expected = _answer(first)

    second = _llm()
    assert second.warm(_prefix(second), tmp_path) == "restored"
    assert second.llama.n_tokens == len(_prefix(second).tokens)
    assert _answer(second) == expected


def test_a_damaged_state_is_computed_again_and_replaced(tmp_path: Path) -> None:
    llm = _llm()
    llm.warm(_prefix(llm), tmp_path)
    (path,) = tmp_path.iterdir()
    path.write_bytes(b"not a saved state")
    again = _llm()
    assert again.warm(_prefix(again), tmp_path) == "computed"
    assert path.stat().st_size > 10_000  # saved afresh
    assert _llm().warm(_prefix(again), tmp_path) == "restored"


def test_another_context_size_never_loads_the_state(tmp_path: Path) -> None:
    small = _llm(1024)
    small.warm(_prefix(small), tmp_path)
    large = _llm(2048)
    assert large.warm(_prefix(large), tmp_path) == "computed"
    assert len(list(tmp_path.iterdir())) == 2


def test_without_a_cache_dir_nothing_is_written(tmp_path: Path) -> None:
    llm = _llm()
    assert llm.warm(_prefix(llm), None) == "computed"
    assert list(tmp_path.iterdir()) == []
