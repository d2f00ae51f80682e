"""The OpenAI-compatible API, driven by the official ``openai`` Python client against a real
ragqa server (uvicorn on loopback) with the real embedder, index and tiny GGUF.

The tiny model is weak, so answers are checked for their shape and the truth of their
citations (every span is the document's text), never for what they say.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import openai
import pytest

from app.answer.service import WEAK_RETRIEVAL_ANSWER, RagService
from app.embedding import Embedder
from tests.support import Server, running_on_copy

LLAMA_QUESTION = "How many tokens was Llama 2 trained on?"
OFF_TOPIC = "What is the boiling point of tungsten in kelvin?"
KEY = "s3cret"


@pytest.fixture(scope="module")
def locked(
    tmp_path_factory: pytest.TempPathFactory, demo_index: Path, embedder: Embedder
) -> Iterator[Server]:
    """Reads need the key, and no model is loaded (as when the GGUF failed to load)."""
    with running_on_copy(
        tmp_path_factory.mktemp("oa-key"),
        demo_index,
        embedder,
        None,
        api_key=KEY,
        protect_reads=True,
    ) as s:
        yield s


def assert_true_citations(service: RagService, citations: list[dict[str, Any]]) -> None:
    for c in citations:
        doc = service.snapshot.documents[c["doc_id"]]
        assert doc.text[c["start"] : c["end"]] == c["text"]


def assert_openai_error(err: openai.APIStatusError, status: int, code: str | None = None) -> None:
    body = err.body
    assert isinstance(body, dict), body
    assert body["type"] == {401: "authentication_error", 404: "not_found_error"}.get(
        status, "server_error" if status >= 500 else "invalid_request_error"
    )
    assert body["status"] == status and err.status_code == status
    assert isinstance(body["message"], str) and body["message"].strip()
    assert err.message and body["message"] in err.message
    if code is not None:
        assert body["code"] == code


# --- chat completions ---------------------------------------------------------------------------
def test_a_chat_completion_answers_with_citations_in_an_extra_field(server: Server) -> None:
    resp = server.openai.chat.completions.create(
        model="gpt-4o-mini",  # any name: ragqa answers with its own model
        messages=[
            {"role": "system", "content": "You are a pirate."},  # ignored: ragqa's prompt rules
            {"role": "user", "content": LLAMA_QUESTION},
        ],
    )
    assert resp.object == "chat.completion" and resp.id.startswith("chatcmpl-")
    assert resp.model == "SmolLM2-135M-Instruct.Q4_1"
    choice = resp.choices[0]
    assert choice.message.role == "assistant" and choice.message.content
    assert choice.finish_reason in ("stop", "length")
    extra = resp.model_extra or {}
    rag = extra["ragqa"]
    assert rag["sources"] and rag["reason"] in (
        "answered",
        "model_refused",
        "unsupported",
        "not_stated",
    )
    assert resp.usage is not None and resp.usage.prompt_tokens == rag["timings"]["prompt_tokens"]
    assert resp.usage.prompt_tokens > 100
    assert resp.usage.total_tokens == resp.usage.prompt_tokens + resp.usage.completion_tokens
    citations = extra["citations"]
    assert_true_citations(server.service, citations + rag["sources"])
    source_numbers = {s["number"] for s in rag["sources"]}
    markers = {int(n) for n in re.findall(r"\[(\d+)\]", choice.message.content)}
    assert markers <= source_numbers  # markers to missing sources are removed
    for c in citations:
        assert c["number"] in source_numbers
        assert c["inferred"] or c["number"] in markers


def test_a_follow_up_uses_the_earlier_turns(server: Server) -> None:
    resp = server.openai.chat.completions.create(
        model="ragqa",
        messages=[
            {"role": "user", "content": LLAMA_QUESTION},
            {"role": "assistant", "content": "2 trillion tokens [1]."},
            {"role": "user", "content": [{"type": "text", "text": "And its context length?"}]},
        ],
        max_tokens=8,
    )
    rag = (resp.model_extra or {})["ragqa"]
    assert "Llama 2" in rag["retrieval_query"]
    assert any("4,000" in s["text"] for s in rag["sources"])
    assert rag["timings"]["completion_tokens"] <= 8  # max_tokens is honoured


def test_streaming_sends_deltas_then_a_final_chunk_with_citations(server: Server) -> None:
    chunks = list(
        server.openai.chat.completions.create(
            model="ragqa",
            messages=[{"role": "user", "content": "Who leaked LLaMA?"}],
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    assert chunks[0].choices[0].delta.role == "assistant"
    with_choices = [c for c in chunks if c.choices]
    content = "".join(c.choices[0].delta.content or "" for c in with_choices)
    assert content.strip()
    assert [c.choices[0].finish_reason for c in with_choices][:-1] == [None] * (
        len(with_choices) - 1
    )
    final = with_choices[-1]
    assert final.choices[0].finish_reason in ("stop", "length")
    extra = final.model_extra or {}
    rag = extra["ragqa"]
    # deltas are the model's raw tokens; ragqa.answer is the checked text the citations
    # refer to (markers re-pointed at the passage stating a figure); a rejected answer's
    # verdict also reaches plain clients as the last delta
    assert rag["answer"].strip()
    if not rag["answerable"]:
        assert content.endswith(rag["answer"])
    markers = {int(n) for n in re.findall(r"\[(\d+)\]", rag["answer"])}
    assert markers <= {s["number"] for s in rag["sources"]}
    assert all(c["inferred"] or c["number"] in markers for c in extra["citations"])
    assert_true_citations(server.service, extra["citations"] + rag["sources"])
    # the usage-only chunk OpenAI sends when asked for it
    assert not chunks[-1].choices and chunks[-1].usage is not None
    assert chunks[-1].usage.prompt_tokens == rag["timings"]["prompt_tokens"] > 100
    assert len({c.id for c in chunks}) == 1


def test_a_question_the_articles_do_not_cover_is_refused_streaming_or_not(server: Server) -> None:
    messages: Any = [{"role": "user", "content": OFF_TOPIC}]
    resp = server.openai.chat.completions.create(model="ragqa", messages=messages)
    assert resp.choices[0].message.content == WEAK_RETRIEVAL_ANSWER
    assert (resp.model_extra or {})["ragqa"]["reason"] == "weak_retrieval"
    assert (resp.model_extra or {})["citations"] == []
    chunks = list(
        server.openai.chat.completions.create(model="ragqa", messages=messages, stream=True)
    )
    content = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert content == WEAK_RETRIEVAL_ANSWER
    assert (chunks[-1].model_extra or {})["ragqa"]["answerable"] is False


@pytest.mark.parametrize(
    ("messages", "extra"),
    [
        ([], {}),
        ([{"role": "assistant", "content": "Hello"}], {}),
        ([{"role": "user", "content": "   "}], {}),
        ([{"role": "user", "content": "x" * 5000}], {}),
        ([{"role": "user", "content": "ok?"}], {"n": 2}),
        ([{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "x"}}]}], {}),
        ([{"role": "wizard", "content": "ok?"}], {}),
    ],
    ids=["no-messages", "last-not-user", "blank", "too-long", "n-2", "image", "bad-role"],
)
def test_bad_requests_raise_the_clients_4xx_errors(
    server: Server, messages: list[dict[str, Any]], extra: dict[str, Any]
) -> None:
    for stream in (False, True):
        with pytest.raises(openai.UnprocessableEntityError) as err:
            server.openai.chat.completions.create(
                model="ragqa",
                messages=messages,  # type: ignore[arg-type]
                stream=stream,
                extra_body=extra,
            )
        assert_openai_error(err.value, 422, "bad_input")


def test_a_wrong_method_is_405_not_the_web_page(server: Server) -> None:
    resp = httpx.get(f"{server.url}/v1/chat/completions")
    assert resp.status_code == 405 and resp.json()["error"]["type"] == "invalid_request_error"


# --- models -------------------------------------------------------------------------------------
def test_models_lists_the_gguf_stem(server: Server) -> None:
    ids = [m.id for m in server.openai.models.list()]
    assert ids == ["SmolLM2-135M-Instruct.Q4_1"]
    assert server.openai.models.retrieve(ids[0]).id == ids[0]
    with pytest.raises(openai.NotFoundError) as err:
        server.openai.models.retrieve("gpt-5")
    assert_openai_error(err.value, 404)


# --- embeddings ---------------------------------------------------------------------------------
def test_embeddings_are_the_configured_embedders_vectors(
    server: Server, embedder: Embedder
) -> None:
    texts = ["Llama 2 was trained on 2 trillion tokens.", "LoRA makes fine-tuning cheap."]
    expected = embedder.embed(texts)
    calls: dict[str, Any] = {
        "default": {},  # the client asks for base64 and decodes it itself
        "float": {"encoding_format": "float"},
        "base64": {"encoding_format": "base64"},
    }
    for fmt, kw in calls.items():
        resp = server.openai.embeddings.create(model="text-embedding-3-small", input=texts, **kw)
        rows: list[Any] = [d.embedding for d in sorted(resp.data, key=lambda d: d.index)]
        if fmt == "base64":
            rows = [np.frombuffer(base64.b64decode(r), dtype="<f4") for r in rows]
        got = np.array(rows)
        assert got.shape == (2, embedder.dim), fmt
        np.testing.assert_allclose(got, expected, atol=1e-6)
        assert resp.model == "all-MiniLM-L6-v2"
        assert resp.usage.prompt_tokens == sum(embedder.count_tokens(texts))
    one = server.openai.embeddings.create(model="x", input=texts[0])
    np.testing.assert_allclose(one.data[0].embedding, expected[0], atol=1e-6)


@pytest.mark.parametrize(
    "payload",
    [[], [""], ["ok"] * 129, ["x" * 8001], [[1, 2, 3]]],
    ids=["empty", "blank", "too-many", "too-long", "token-ids"],
)
def test_bad_embedding_requests_are_422(server: Server, payload: Any) -> None:
    with pytest.raises(openai.UnprocessableEntityError) as err:
        server.openai.embeddings.create(model="x", input=payload, encoding_format="float")
    assert_openai_error(err.value, 422)


# --- auth and failures --------------------------------------------------------------------------
def test_the_api_key_is_required_when_reads_are_protected(locked: Server) -> None:
    wrong = openai.OpenAI(base_url=f"{locked.url}/v1", api_key="nope", max_retries=0)
    for call in (
        lambda: wrong.models.list(),
        lambda: wrong.embeddings.create(model="x", input="hello"),
        lambda: wrong.chat.completions.create(
            model="x", messages=[{"role": "user", "content": LLAMA_QUESTION}]
        ),
    ):
        with pytest.raises(openai.AuthenticationError) as err:
            call()
        assert_openai_error(err.value, 401, "unauthorized")
    assert locked.openai.embeddings.create(model="x", input="hello").data


def test_a_full_queue_is_a_503_before_any_stream_starts_and_frees_nothing(server: Server) -> None:
    """Like /api/ask: a /v1 request reserves its place in the model's queue when accepted,
    so a full queue answers 503 "busy" with Retry-After, never an error inside a 200."""
    gate = server.service.gate
    saved = gate.max_queue
    gate.max_queue = 0
    messages: Any = [{"role": "user", "content": LLAMA_QUESTION}]
    try:
        with gate.slot(timeout=1):  # stands in for a generation in progress
            for stream in (False, True):
                resp = httpx.post(
                    f"{server.url}/v1/chat/completions",
                    json={"model": "x", "messages": messages, "stream": stream},
                    timeout=60,
                )
                assert resp.status_code == 503, resp.text
                assert resp.json()["error"]["code"] == "busy"
                assert int(resp.headers["retry-after"]) >= 1
                assert gate.waiting == 0  # the refused request holds no place
    finally:
        gate.max_queue = saved
    assert gate.active == 0 and gate.waiting == 0


def test_a_missing_model_is_503_or_an_error_event_in_the_stream(locked: Server) -> None:
    messages: Any = [{"role": "user", "content": LLAMA_QUESTION}]
    with pytest.raises(openai.InternalServerError) as err:
        locked.openai.chat.completions.create(model="x", messages=messages)
    assert_openai_error(err.value, 503, "model_unavailable")
    stream = locked.openai.chat.completions.create(model="x", messages=messages, stream=True)
    with pytest.raises(openai.APIError) as streamed:
        list(stream)
    assert "no language model is loaded" in streamed.value.message
    assert isinstance(streamed.value.body, dict) and streamed.value.body["status"] == 503
