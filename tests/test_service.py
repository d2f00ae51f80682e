"""The answer service end to end: real retrieval, real tiny GGUF, citations and refusals."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from app.answer.service import WEAK_RETRIEVAL_ANSWER, RagService
from app.embedding import Embedder
from app.errors import BadInput, Cancelled
from app.llm.base import RenderedPrompt
from app.llm.local import LocalLLM
from tests.support import make_settings, service_on_copy

KNOWN = [
    ("How many tokens was Llama 2 trained on?", "2 trillion tokens"),
    ("Which company became Llama 2's primary partner?", "Microsoft"),
    ("What technique lets people fine-tune a model cheaply on consumer hardware?", "LoRA"),
    ("How much did Nathan Lambert estimate Llama 2 cost to train?", "$25 million"),
]


@pytest.mark.parametrize(("question", "fact"), KNOWN)
def test_retrieval_finds_the_passage_that_states_the_fact(
    demo_service: RagService, question: str, fact: str
) -> None:
    hits, _ = demo_service.retrieve(question, 5)
    assert any(fact in h.chunk.text for h in hits), [h.chunk.text[:80] for h in hits]


def test_an_answer_carries_sources_with_true_spans_and_timings(demo_service: RagService) -> None:
    answer = demo_service.ask("How many tokens was Llama 2 trained on?", top_k=3)
    assert answer.sources and answer.model == "SmolLM2-135M-Instruct.Q4_1.gguf"
    for s in answer.sources:
        doc = demo_service.snapshot.documents[s.doc_id]
        assert doc.text[s.start : s.end] == s.text
        assert s.title == doc.title and s.source == doc.source
    for c in answer.citations:
        assert c.cited and any(c.number == s.number for s in answer.sources)
    t = answer.timings
    assert t.retrieval_ms > 0 and t.prompt_tokens > 100 and t.total_ms >= t.generation_ms > 0
    assert t.ttft_ms is not None and 0 < t.ttft_ms <= t.generation_ms


def _words(text: str) -> str:
    """Text without [n] markers, whitespace collapsed."""
    return " ".join(re.sub(r"\s*\[\d+(?:\s*,\s*\d+)*\]", "", text).split())


def test_streaming_yields_tokens_that_make_up_the_answer(
    tmp_path: Path, demo_index: Path, embedder: Embedder, tiny_llm: LocalLLM
) -> None:
    """The streamed tokens are the model's whole output: the final answer is made of them
    (each of its sentences, markers aside, is in their concatenation), they count as the
    completion tokens, and the same question asked without streaming gives the same answer.
    (The claim check is off: it withholds the tiny model's answer, and this is about
    streaming, not checking.)"""
    demo_service = service_on_copy(tmp_path, demo_index, embedder, tiny_llm, verify_claims=False)
    question = "Who leaked LLaMA?"  # the tiny model answers it (greedy: always the same)
    events = list(demo_service.ask_stream(question, top_k=2))
    kinds = [e.kind for e in events]
    assert kinds[0] == "sources" and kinds[-1] == "answer" and "token" in kinds
    raw = "".join(e.data for e in events if e.kind == "token")
    answer = events[-1].data
    assert answer.reason == "answered", answer.answer
    sentences = [x for x in re.split(r"(?<=[.!?])\s+", answer.answer) if _words(x)]
    assert sentences
    for sentence in sentences:
        assert _words(sentence) in _words(raw), (sentence, raw)
    assert demo_service.llm is not None
    assert answer.timings.completion_tokens == demo_service.llm.count_tokens(raw.strip())
    assert demo_service.ask(question, top_k=2).answer == answer.answer


class FakeLLM:
    """Stands in for the model in error-path tests only: scripted output, or a failure."""

    name = "fake"
    n_ctx = 2048

    def __init__(self, reply: str = "", fail: bool = False) -> None:
        self.reply, self.fail, self.calls = reply, fail, 0

    def render(self, messages: Sequence[dict[str, str]]) -> RenderedPrompt:
        text = "\n".join(m["content"] for m in messages)
        return RenderedPrompt(text, list(range(len(text) // 4)), [])

    def count_tokens(self, text: str) -> int:
        return len(text) // 4

    def stream(
        self,
        prompt: RenderedPrompt,
        *,
        max_tokens: int,
        temperature: float = 0.0,
        cancel: threading.Event | None = None,
        deadline: float | None = None,
    ) -> Iterator[str]:
        self.calls += 1
        if self.fail:
            raise AssertionError("the LLM must not be called")
        for word in self.reply.split(" "):
            if cancel is not None and cancel.is_set():
                raise Cancelled("cancelled")
            yield word + " "


@pytest.fixture
def fake_service(demo_service: RagService, embedder: Embedder, tmp_path: object) -> RagService:
    svc = RagService(demo_service.settings, embedder=embedder, llm=FakeLLM())
    svc.index.replace(demo_service.snapshot)
    return svc


def test_weak_retrieval_refuses_without_calling_the_llm(fake_service: RagService) -> None:
    fake_service.llm = FakeLLM(fail=True)
    answer = fake_service.ask("Best recipe for sourdough bread with rye flour?")
    assert not answer.answerable and answer.reason == "weak_retrieval"
    assert answer.answer == WEAK_RETRIEVAL_ANSWER and answer.citations == []
    assert answer.timings.ttft_ms is None


def test_a_model_refusal_is_flagged_unanswerable(fake_service: RagService) -> None:
    fake_service.llm = FakeLLM("The sources do not contain the answer.")
    answer = fake_service.ask("What learning rate was used to train Llama 2?")
    assert not answer.answerable and answer.reason == "model_refused" and answer.citations == []


def test_an_answer_whose_figures_appear_in_no_source_is_not_reported(
    fake_service: RagService,
) -> None:
    fake_service.llm = FakeLLM("The 70B model has 16 attention heads [1].")
    answer = fake_service.ask("How many attention heads does the 70B Llama 2 model have?")
    assert not answer.answerable and answer.reason == "unsupported"
    assert "16" not in answer.answer and answer.citations == []


def test_an_answer_naming_what_no_source_names_is_not_reported(fake_service: RagService) -> None:
    fake_service.llm = FakeLLM("Meta used the Adam optimizer when training Llama 2 [1].")
    answer = fake_service.ask("Which optimizer did Meta use when training Llama 2?")
    assert not answer.answerable and answer.reason == "unsupported"
    assert "Adam" not in answer.answer and answer.citations == []


def test_markers_to_missing_sources_are_dropped_and_real_ones_mapped(
    fake_service: RagService,
) -> None:
    fake_service.llm = FakeLLM("Llama 2 was trained on 2 trillion tokens [1] [9].")
    answer = fake_service.ask("How many tokens was Llama 2 trained on?", top_k=3)
    assert "[9]" not in answer.answer and "[1]" in answer.answer
    assert [c.number for c in answer.citations] == [1]
    assert answer.citations[0].chunk_id == answer.sources[0].chunk_id


def test_an_answer_without_markers_gets_its_supporting_source_attached(
    fake_service: RagService,
) -> None:
    fake_service.llm = FakeLLM("Llama 2 was trained on 2 trillion tokens.")
    answer = fake_service.ask("How many tokens was Llama 2 trained on?", top_k=5)
    assert answer.answerable and answer.citations
    assert all(c.inferred for c in answer.citations)
    assert "2 trillion tokens" in answer.citations[0].text


def test_cancelling_stops_generation(fake_service: RagService) -> None:
    fake_service.llm = FakeLLM("word " * 200)
    cancel = threading.Event()
    stream = fake_service.ask_stream("How many tokens was Llama 2 trained on?", cancel=cancel)
    with pytest.raises(Cancelled):
        for event in stream:
            if event.kind == "token":
                cancel.set()
    assert fake_service.gate.active == 0  # the slot was released


@pytest.mark.parametrize(
    ("question", "top_k"), [("", None), ("   ", None), ("x" * 5000, None), ("ok?", 0), ("ok?", 99)]
)
def test_bad_questions_are_rejected_with_a_reason(
    demo_service: RagService, question: str, top_k: int | None
) -> None:
    with pytest.raises(BadInput) as err:
        demo_service.ask(question, top_k)
    assert err.value.message


def test_a_follow_up_is_searched_with_the_previous_question(demo_service: RagService) -> None:
    history = [
        {"role": "user", "content": "How many tokens was Llama 2 trained on?"},
        {"role": "assistant", "content": "2 trillion tokens [1]."},
    ]
    query = RagService.retrieval_query("And what is its context length?", history)
    assert "Llama 2" in query
    hits, _ = demo_service.retrieve(query, 5)
    assert any("4,000" in h.chunk.text for h in hits)


@pytest.mark.unit
def test_the_defaults_bind_loopback_and_set_no_key(tmp_path: object) -> None:
    s = make_settings(tmp_path)  # type: ignore[arg-type]
    assert s.api_key is None and s.host == "127.0.0.1"


def test_a_difference_asked_for_is_worked_out_by_ragqa_not_the_model(
    fake_service: RagService,
) -> None:
    fake_service.llm = FakeLLM(
        "GPT-4's training bill was $63 million [1], against more than $25 million for "
        "Llama 2 [2], a difference of $40 million."
    )
    answer = fake_service.ask(
        "By how much did GPT-4's training bill exceed the estimated cost of training Llama 2?"
    )
    assert answer.answerable, answer.detail
    assert "$40 million" not in answer.answer  # the model's sum, wrong, is not shown
    assert answer.answer.endswith(
        "The difference is $38 million (worked out by ragqa from the figures above)."
    )
