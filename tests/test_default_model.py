"""The bundled default model (Qwen2.5-Coder-1.5B-Instruct Q4_K_M) answers with the figure
and cites the passage that states it. Slow: the model is 1.1 GB and prefill runs on the CPU."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from app.answer.service import WITHHELD_ANSWER, RagService
from app.embedding import Embedder
from app.llm import load_llm
from app.llm.model_files import BUNDLED_SIZE
from tests.support import make_settings

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


# Neither question is in data/eval/questions.jsonl or data/eval/gate.jsonl (a test on the
# eval set's own questions measures what the prompt was tuned on).
ANSWERABLE = (
    "In the leaked Google memo, how much money did the engineer say open source developers "
    "would need alongside a 13-billion-parameter model?",
    "$10 million",
)
UNANSWERABLE = "What batch size did Meta use to pretrain Llama 2?"
# the reasons an answer check gives after the model was asked (not retrieval's refusals)
WITHHELD_AFTER_THE_MODEL = {"model_refused", "unsupported", "not_stated"}


def test_answers_a_figure_with_a_citation_to_the_passage_that_states_it(
    default_service: RagService,
) -> None:
    question, figure = ANSWERABLE
    answer = default_service.ask(question)
    assert answer.reason == "answered", (answer.answer, answer.detail)
    assert figure in answer.answer
    assert any(figure in c.text for c in answer.citations), answer.citations
    assert answer.model_text and figure in answer.model_text


def test_refuses_a_question_the_articles_do_not_answer(default_service: RagService) -> None:
    """The model was asked (retrieval found Llama 2 passages, the model generated) and the
    answer was withheld with the fixed sentence: neither a retrieval refusal nor a made-up
    batch size. (The test above fails a service that refuses everything.)"""
    answer = default_service.ask(UNANSWERABLE)
    assert not answer.answerable
    assert answer.reason in WITHHELD_AFTER_THE_MODEL, answer.reason
    assert answer.timings.ttft_ms is not None and answer.timings.completion_tokens > 0
    assert answer.answer == WITHHELD_ANSWER and answer.citations == []
    # what the model said is kept beside the fixed sentence, for replaying the checks
    assert answer.model_text and answer.model_text != WITHHELD_ANSWER
