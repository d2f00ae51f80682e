"""The bundled default model (Qwen2.5-Coder-1.5B-Instruct Q4_K_M) answers with the figure
and cites the passage that states it. Slow: the model is 1.1 GB and prefill runs on the CPU."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from app.answer.service import RagService
from app.embedding import Embedder
from app.llm import load_llm
from app.llm.model_files import BUNDLED_SIZE
from tests.conftest import make_settings

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def default_service(
    tmp_path_factory: pytest.TempPathFactory, demo_index: Path, embedder: Embedder
) -> Iterator[RagService]:
    import shutil

    tmp = tmp_path_factory.mktemp("default")
    shutil.copytree(demo_index, tmp / "index")
    settings = make_settings(tmp, model_path=None, n_ctx=4096, max_tokens=160)
    service = RagService(settings, embedder=embedder, llm=load_llm(settings))
    service.open_index()
    yield service


def test_the_bundled_model_is_assembled_and_verified(default_service: RagService) -> None:
    assert default_service.llm is not None
    path = Path(default_service.llm.path)
    assert path.stat().st_size == BUNDLED_SIZE


def test_answers_the_training_tokens_question_with_a_citation(default_service: RagService) -> None:
    answer = default_service.ask("How many tokens was Llama 2 trained on?")
    assert answer.answerable
    assert "2 trillion" in answer.answer
    assert any("2 trillion tokens" in c.text for c in answer.citations)


def test_refuses_a_question_the_articles_do_not_answer(default_service: RagService) -> None:
    answer = default_service.ask("What learning rate was used to train Llama 2?")
    assert not answer.answerable
