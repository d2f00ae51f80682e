"""The remote generation backend against a real engine: llama-cpp-python's own
OpenAI-compatible server (``python -m llama_cpp.server``) on loopback, serving the tiny GGUF.

The in-process and the remote backend must give the same answers for the same prompt and
settings (temperature 0, seed). llama.cpp reuses the KV cache of the previous prompt, and
a prompt evaluated in different batch splits can flip a greedy choice, so each backend is
compared from the same cache state: warmed up with the same prompt (as ``ragqa serve``
does), then asked the same questions in the same order.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from fastapi import Request

from app.answer.service import RagService
from app.answer.types import Answer
from app.api.app import create_app, warm_up
from app.embedding import Embedder
from app.errors import Cancelled, ModelUnavailable
from app.llm import load_llm
from app.llm.local import LocalLLM
from app.llm.model_files import tiny_model_path
from app.llm.remote import RemoteLLM
from app.settings import Settings
from tests.support import make_settings, serve_app

KEY = "engine-key"
QUESTIONS = [
    "Which company became Llama 2's primary partner?",
    "How much did Nathan Lambert estimate Llama 2 cost to train?",
]
FOLLOW_UP = (
    "And what is its context length?",
    [
        {"role": "user", "content": "How many tokens was Llama 2 trained on?"},
        {"role": "assistant", "content": "2 trillion tokens [1]."},
    ],
)
TOP_K = 2
THREADS = 1  # on this shared 2-core machine one llama.cpp thread beats two (no spin-waits)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """llama-cpp-python's server with the tiny GGUF; yields its OpenAI base URL."""
    port = free_port()
    log = tmp_path_factory.mktemp("engine") / "server.log"
    cmd = [
        sys.executable, "-m", "app.llm.llama_server",
        "--model", str(tiny_model_path()),
        "--host", "127.0.0.1", "--port", str(port),
        "--n_ctx", "2048", "--n_threads", str(THREADS), "--n_threads_batch", str(THREADS),
        "--seed", "42",
        "--api_key", KEY, "--logits_all", "False", "--verbose", "False",
    ]  # fmt: skip
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                r = httpx.get(f"{base}/models", headers={"Authorization": f"Bearer {KEY}"})
                if r.status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"llama_cpp.server did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _settings(tmp: Path, **kw: Any) -> Settings:
    # the claim check is off: it withholds most of the tiny model's answers, and this
    # compares the two backends' answers, which needs some answered
    values: dict[str, Any] = {
        "seed": 42,
        "temperature": 0.0,
        "max_tokens": 48,
        "verify_claims": False,
        **kw,
    }
    return make_settings(tmp, **values)


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory: pytest.TempPathFactory, demo_index: Path) -> Path:
    tmp = tmp_path_factory.mktemp("remote")
    shutil.copytree(demo_index, tmp / "index")
    return tmp


def _service(tmp: Path, embedder: Embedder, llm: Any, **kw: Any) -> RagService:
    service = RagService(_settings(tmp, **kw), embedder=embedder, llm=llm)
    service.open_index()
    return service


def _run(service: RagService) -> list[Answer]:
    """Warm up as ``ragqa serve`` does, then the questions, then a follow-up."""
    warm_up(service)
    answers = [service.ask(q, top_k=TOP_K) for q in QUESTIONS]
    answers.append(service.ask(FOLLOW_UP[0], top_k=TOP_K, history=FOLLOW_UP[1]))
    return answers


def _essence(a: Answer) -> dict[str, Any]:
    return {
        "answer": a.answer,
        "answerable": a.answerable,
        "reason": a.reason,
        "citations": [(c.number, c.chunk_id, c.start, c.end, c.inferred) for c in a.citations],
        "sources": [(s.number, s.chunk_id, s.start, s.end) for s in a.sources],
    }


@pytest.fixture(scope="module")
def local_answers(index_dir: Path, embedder: Embedder) -> list[Answer]:
    # its own LocalLLM: the session one's KV cache holds whatever other tests asked
    llm = LocalLLM(tiny_model_path(), n_ctx=2048, n_threads=THREADS, seed=42)
    try:
        return _run(_service(index_dir, embedder, llm))
    finally:
        llm.llama.close()


def test_the_exact_mode_gives_the_in_process_answers(
    engine: str, index_dir: Path, embedder: Embedder, local_answers: list[Answer]
) -> None:
    settings = _settings(
        index_dir, llm_backend="openai", llm_base_url=engine, llm_api_key=KEY
    )  # model_path (the tiny GGUF) gives the template and the tokenizer
    llm = load_llm(settings)
    assert isinstance(llm, RemoteLLM) and llm.mode == "completions"
    remote = _run(_service(index_dir, embedder, llm))
    assert [_essence(a) for a in remote] == [_essence(a) for a in local_answers]
    # the same prompt, token for token, and the same answer lengths
    assert [a.timings.prompt_tokens for a in remote] == [
        a.timings.prompt_tokens for a in local_answers
    ]
    assert [a.timings.completion_tokens for a in remote] == [
        a.timings.completion_tokens for a in local_answers
    ]
    assert any(a.answerable and a.citations for a in remote)  # not all refusals
    assert all(a.model == str(tiny_model_path()) for a in remote)  # the server's model id


def test_the_portable_mode_lets_the_server_render_and_gives_the_same_answers(
    engine: str, index_dir: Path, embedder: Embedder, local_answers: list[Answer]
) -> None:
    llm = RemoteLLM(engine, api_key=KEY, n_ctx=2048, seed=42)  # no GGUF here: /chat/completions
    assert llm.mode == "chat"
    remote = _run(_service(index_dir, embedder, llm))
    assert [_essence(a) for a in remote] == [_essence(a) for a in local_answers]
    # token counts come from the server's /extras/tokenize plus an allowance per message
    for r, loc in zip(remote, local_answers, strict=True):
        if loc.timings.prompt_tokens:
            assert loc.timings.prompt_tokens <= r.timings.prompt_tokens
            assert r.timings.prompt_tokens <= loc.timings.prompt_tokens + 40


def test_remote_answers_pass_the_in_process_answer_checks(
    engine: str, index_dir: Path, embedder: Embedder
) -> None:
    llm = RemoteLLM(engine, api_key=KEY, n_ctx=2048, tokenizer_path=tiny_model_path())
    service = _service(index_dir, embedder, llm)
    answer = service.ask(QUESTIONS[0], top_k=TOP_K)
    for s in answer.sources:
        doc = service.snapshot.documents[s.doc_id]
        assert doc.text[s.start : s.end] == s.text
    for c in answer.citations:
        assert c.cited and any(c.number == s.number for s in answer.sources)
    t = answer.timings
    assert t.retrieval_ms > 0 and t.prompt_tokens > 100 and t.total_ms >= t.generation_ms > 0
    assert t.ttft_ms is not None and 0 < t.ttft_ms <= t.generation_ms
    events = list(service.ask_stream("Who leaked LLaMA?", top_k=2))
    assert [e.kind for e in events][0] == "sources" and events[-1].kind == "answer"
    assert "".join(e.data for e in events if e.kind == "token").strip()


def test_cancelling_closes_the_stream_and_the_server_keeps_serving(
    engine: str, index_dir: Path, embedder: Embedder
) -> None:
    llm = RemoteLLM(engine, api_key=KEY, n_ctx=2048, tokenizer_path=tiny_model_path())
    service = _service(index_dir, embedder, llm, max_tokens=256)
    cancel = threading.Event()
    tokens = 0
    with pytest.raises(Cancelled):
        for event in service.ask_stream(QUESTIONS[0], top_k=TOP_K, cancel=cancel):
            if event.kind == "token":
                tokens += 1
                cancel.set()
    assert tokens == 1
    assert service.gate.active == 0
    assert service.ask(QUESTIONS[1], top_k=TOP_K).sources  # the engine still answers


def test_an_answer_the_server_cuts_short_is_an_error_not_a_short_answer(engine: str) -> None:
    """llama-cpp-python's server (by default) ends a stream with a bare [DONE] when another
    request arrives, as a second ragqa worker's would: that must not pass as an answer."""
    from app.answer.prompt import build_messages

    first, second = (
        RemoteLLM(engine, api_key=KEY, n_ctx=2048, tokenizer_path=tiny_model_path())
        for _ in range(2)
    )
    prompt = first.render(build_messages("Count from 1 to 300, separated by commas.", []))
    stream = first.stream(prompt, max_tokens=400)
    assert next(stream)
    other = threading.Thread(target=lambda: list(second.stream(prompt, max_tokens=2)))
    other.start()
    try:
        with pytest.raises(ModelUnavailable) as err:
            list(stream)
        assert "--interrupt_requests False" in err.value.message
    finally:
        other.join(timeout=120)


def test_health_checks_do_not_disturb_a_running_answer(engine: str) -> None:
    """ragqa's /health asks the model server's root, never a route that waits for (or,
    on llama-cpp-python's server, interrupts) the generation in progress."""
    from app.answer.prompt import build_messages

    llm = RemoteLLM(engine, api_key=KEY, n_ctx=2048, tokenizer_path=tiny_model_path())
    prompt = llm.render(build_messages("Count from 1 to 300, separated by commas.", []))
    stream = llm.stream(prompt, max_tokens=120)
    assert next(stream)
    health = RemoteLLM(engine, n_ctx=2048).health()  # a fresh one: nothing cached
    assert health["reachable"] is True and health["error"] is None
    assert list(stream)  # finished, not cut short (that would raise ModelUnavailable)


def test_an_unreachable_or_refusing_server_is_a_clear_error(
    engine: str, index_dir: Path, embedder: Embedder
) -> None:
    dead = f"http://127.0.0.1:{free_port()}/v1"
    llm = RemoteLLM(dead, n_ctx=2048, tokenizer_path=tiny_model_path())
    service = _service(index_dir, embedder, llm)
    with pytest.raises(ModelUnavailable) as err:
        service.ask(QUESTIONS[0], top_k=TOP_K)
    assert "RAGQA_LLM_BASE_URL" in err.value.message and dead in err.value.message
    health = service.health()
    assert health["status"] == "degraded" and health["model_server"]["reachable"] is False

    wrong_key = RemoteLLM(engine, api_key="nope", n_ctx=2048, tokenizer_path=tiny_model_path())
    with pytest.raises(ModelUnavailable) as err:
        _service(index_dir, embedder, wrong_key).ask(QUESTIONS[0], top_k=TOP_K)
    assert "RAGQA_LLM_API_KEY" in err.value.message and "401" in err.value.message

    with pytest.raises(ModelUnavailable) as err:
        load_llm(_settings(index_dir, llm_backend="openai"))
    assert "RAGQA_LLM_BASE_URL" in err.value.message


def test_a_busy_or_failing_server_maps_to_ragqas_errors() -> None:
    """Error paths llama.cpp will not produce on demand, from a scripted HTTP server."""
    from fastapi import FastAPI
    from fastapi.responses import JSONResponse, PlainTextResponse

    from app.answer.prompt import build_messages
    from app.errors import Busy

    fake = FastAPI()
    status = {"code": 429}

    @fake.get("/health")
    def health() -> PlainTextResponse:
        return PlainTextResponse("ok")

    @fake.post("/v1/completions")
    def completions() -> JSONResponse:
        body = {"error": {"message": "the model exploded", "type": "server_error"}}
        return JSONResponse(body, status_code=status["code"], headers={"Retry-After": "7"})

    with serve_app(fake) as url:
        llm = RemoteLLM(f"{url}/v1", model="m", n_ctx=2048, tokenizer_path=tiny_model_path())
        prompt = llm.render(build_messages("Hello?", []))
        with pytest.raises(Busy) as busy:
            list(llm.stream(prompt, max_tokens=8))
        assert busy.value.retry_after == 7
        status["code"] = 500
        with pytest.raises(ModelUnavailable) as err:
            list(llm.stream(prompt, max_tokens=8))
        assert "HTTP 500: the model exploded" in err.value.message


def test_a_stream_that_fails_midway_and_the_credentials_sent(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A stream that reports an error, or sends what is not JSON, is a clear error; the
    key is RAGQA_LLM_API_KEY alone (none: no Authorization header, whatever OPENAI_API_KEY
    says), from a scripted HTTP server."""
    from fastapi import FastAPI
    from fastapi.responses import PlainTextResponse, StreamingResponse

    from app.llm.base import RenderedPrompt

    monkeypatch.setenv("OPENAI_API_KEY", "sk-not-for-this-server")
    monkeypatch.setenv("OPENAI_ORG_ID", "org-not-for-this-server")
    fake = FastAPI()
    script = {"last": "{nope"}
    headers: list[dict[str, str]] = []

    @fake.get("/health")
    def health(request: Request) -> PlainTextResponse:
        headers.append(dict(request.headers))
        return PlainTextResponse("ok")

    @fake.post("/v1/completions")
    def completions(request: Request) -> StreamingResponse:
        headers.append(dict(request.headers))
        first = json.dumps({"choices": [{"text": "Hi", "finish_reason": None}]})
        body = f"data: {first}\n\ndata: {script['last']}\n\n"
        return StreamingResponse(iter([body]), media_type="text/event-stream")

    prompt = RenderedPrompt("Hello", [1, 2], [])
    with serve_app(fake) as url:
        headers.clear()  # serve_app's own health checks
        llm = RemoteLLM(f"{url}/v1", model="m", n_ctx=2048, chat_format="chatml")
        with pytest.raises(ModelUnavailable) as err:
            list(llm.stream(prompt, max_tokens=8))
        assert "streamed something that is not JSON" in err.value.message
        script["last"] = json.dumps({"error": {"message": "the model exploded"}})
        with pytest.raises(ModelUnavailable) as err:
            list(llm.stream(prompt, max_tokens=8))
        assert err.value.message.endswith("failed mid-answer: the model exploded")
        assert llm.health()["reachable"] is True
        keyed = RemoteLLM(f"{url}/v1", api_key=KEY, model="m", n_ctx=2048, chat_format="chatml")
        with pytest.raises(ModelUnavailable):
            list(keyed.stream(prompt, max_tokens=8))
    assert [h.get("authorization") for h in headers] == [None, None, None, f"Bearer {KEY}"]
    assert not any("openai-organization" in h for h in headers)


def test_the_openai_client_through_ragqa_to_the_engine(
    engine: str, index_dir: Path, embedder: Embedder
) -> None:
    """openai client → ragqa (remote backend) → llama.cpp server, and /health says so."""
    settings = _settings(index_dir, llm_backend="openai", llm_base_url=engine, llm_api_key=KEY)
    service = _service(index_dir, embedder, load_llm(settings))
    with serve_app(create_app(settings, service)) as url:
        health = httpx.get(f"{url}/health").json()
        assert health["status"] == "ok"
        assert health["model_server"] == {
            "backend": "openai",
            "url": engine,
            "mode": "completions",
            "reachable": True,
            "busy": False,
            "error": None,
        }
        client = openai.OpenAI(base_url=f"{url}/v1", api_key="x", max_retries=0, timeout=300)
        resp = client.chat.completions.create(
            model="ragqa", messages=[{"role": "user", "content": QUESTIONS[0]}]
        )
        assert resp.model == Path(tiny_model_path()).stem
        assert resp.choices[0].message.content
        assert (resp.model_extra or {})["ragqa"]["sources"]
