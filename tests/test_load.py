"""Under load: many clients at once, clients that hang up, answers that take too long.

A real uvicorn serves a copy of the demo index with the real embedder and the tiny GGUF.
The load test is the short form of ``bench/load.py`` (its own functions, in-process); the
2-minute, 32-client form is a documented command (docs/RELIABILITY.md). Nothing here
asserts a speed: waits are bounded only so a broken build fails instead of hanging.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from app.answer.gate import GenerationGate
from app.answer.service import RagService
from app.errors import Busy
from app.llm.local import LocalLLM
from bench.load import NotLoopback, check_loopback, run_load
from bench.load import check_answer as answer_problem
from tests.support import ROOT, Server

ITEMS = [
    json.loads(line)
    for line in (ROOT / "data" / "eval" / "questions.jsonl").read_text().splitlines()
    if line.strip()
]
QUESTIONS = [item["question"] for item in ITEMS]  # all kinds, as the load script asks them
ANSWERABLE = [item["question"] for item in ITEMS if item["type"] != "unanswerable"]
MAX_QUEUE = 4
SERVER_SETTINGS = {"max_queue": MAX_QUEUE, "request_timeout": 120, "max_tokens": 48}
LONG_QUESTION = (
    "Describe in detail everything the articles say about Llama 2: its sizes, its training "
    "data, its licence, its partners and how it compares with other models."
)


def wait_until(condition: Callable[[], bool], within: float) -> bool:
    """Poll ``condition`` for up to ``within`` seconds (a bound, not a speed target)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


def idle(service: RagService) -> bool:
    return service.gate.active == 0 and service.gate.waiting == 0


def assert_answers(server: Server) -> None:
    """The server still answers, completely."""
    resp = server.client.post("/api/ask", json={"question": ANSWERABLE[0]})
    assert resp.status_code == 200, resp.text
    assert answer_problem(resp.json()) == ""


def error_of(body: Any) -> dict[str, Any]:
    assert set(body) == {"error"}, body
    err: dict[str, Any] = body["error"]
    assert set(err) == {"code", "message", "status"} and err["message"].strip()
    return err


# --- the load test, short form -------------------------------------------------------
def test_sixteen_clients_get_complete_answers_or_a_deliberate_503(server: Server) -> None:
    documents_before = server.client.get("/api/documents").json()
    report = asyncio.run(
        run_load(
            server.url,
            QUESTIONS,
            clients=16,
            duration=15,
            stream_ratio=0.5,
            timeout=180,
            max_backoff=2,
        )
    )
    summary = report.summary()
    print(json.dumps({k: v for k, v in summary.items() if k != "health_after"}, indent=1))
    assert summary["server_error"] == 0, summary["examples"]
    assert summary["transport"] == 0, summary["examples"]
    assert summary["hung"] == 0, summary["examples"]
    assert summary["incomplete"] == 0, summary["examples"]
    assert summary["client_error"] == 0, summary["examples"]
    # answers came through; the bounded queue turned the excess away instead of queueing it
    assert summary["ok"] > 0 and summary["busy"] > 0
    # every 503 is a real one, before any stream began, with its Retry-After
    busy = [o for o in report.outcomes if o.outcome == "busy"]
    assert all(o.status == 503 and o.retry_after and o.retry_after >= 1 for o in busy)
    # healthy and idle afterwards, nothing lost
    assert report.healthy_after, summary["health_after"]
    assert idle(server.service)
    assert server.client.get("/api/documents").json() == documents_before
    assert_answers(server)


@pytest.mark.unit
def test_a_burst_at_an_idle_server_is_bounded_by_the_queue() -> None:
    """Places are reserved at admission: with the model idle, the queue plus the one about
    to generate are admitted, the next is refused, and a released place is free again."""
    gate = GenerationGate(max_queue=2)
    places = [gate.reserve() for _ in range(3)]
    assert gate.waiting == 3
    with pytest.raises(Busy):
        gate.reserve()
    places[0].release()
    places[0].release()  # twice is once
    assert gate.waiting == 2
    with gate.slot(timeout=1, reservation=places[1]):  # takes its place over, no new one
        assert gate.waiting == 1 and gate.active == 1
    places[2].release()
    assert gate.waiting == 0 and gate.active == 0


@pytest.mark.unit
def test_the_load_script_refuses_anything_but_loopback() -> None:
    assert check_loopback("http://127.0.0.1:8000/") == "http://127.0.0.1:8000"
    assert check_loopback("http://localhost:1") == "http://localhost:1"
    assert check_loopback("http://[::1]:8000") == "http://[::1]:8000"
    for url in ("http://10.0.0.5:8000", "http://example.com", "http://0.0.0.0:8000", "ftp://x"):
        with pytest.raises(NotLoopback):
            check_loopback(url)


# --- clients that hang up ------------------------------------------------------------
def test_a_stream_client_that_hangs_up_while_queued_leaves_the_queue_at_once(
    server: Server,
) -> None:
    """The model is busy (the test holds its slot); a streaming client waits in the queue,
    then hangs up. Its place in the queue is freed while the model is still busy: it does
    not wait for its turn to generate an answer for nobody."""
    gate = server.service.gate
    with gate.slot(timeout=5):  # stands in for a long generation in progress
        with server.client.stream(
            "POST", "/api/ask/stream", json={"question": ANSWERABLE[1]}
        ) as resp:
            assert resp.status_code == 200
            lines = resp.iter_lines()  # kept: dropping the iterator would close the connection
            while not next(lines).startswith("event: sources"):
                pass
            assert wait_until(lambda: gate.queued == 1, within=10), "never queued"
            lines.close()
        # the connection is closed here, mid-stream
        assert wait_until(lambda: gate.waiting == 0, within=5), "still queued after hanging up"
        assert gate.active == 1  # only the test's own slot
    assert idle(server.service)
    assert_answers(server)


def test_an_ask_client_that_hangs_up_while_queued_leaves_the_queue_at_once(
    server: Server,
) -> None:
    """The same for the non-streaming /api/ask: a client that gives up stops its request."""
    gate = server.service.gate
    errors: list[BaseException] = []

    def impatient() -> None:
        try:
            httpx.post(f"{server.url}/api/ask", json={"question": ANSWERABLE[2]}, timeout=3)
        except httpx.ReadTimeout:
            return  # expected: the client gave up and closed the connection
        except BaseException as exc:  # anything else is a failure
            errors.append(exc)
        else:
            errors.append(AssertionError("answered although the model was busy"))

    with gate.slot(timeout=5):
        thread = threading.Thread(target=impatient)
        thread.start()
        assert wait_until(lambda: gate.queued == 1, within=10), "never queued"
        thread.join(timeout=30)
        assert not thread.is_alive() and not errors, errors
        assert wait_until(lambda: gate.waiting == 0, within=5), "still queued after hanging up"
        assert gate.active == 1
    assert idle(server.service)
    assert_answers(server)


def test_a_stream_client_that_hangs_up_mid_answer_stops_the_generation(
    server: Server, tiny_llm: LocalLLM
) -> None:
    """Hanging up after the first token frees the model at once; the model then holds far
    fewer tokens than the full answer has (llama.cpp's context length tells)."""
    body = {"question": LONG_QUESTION, "top_k": 3}
    saved = server.service.settings.max_tokens
    server.service.settings.max_tokens = 400
    try:
        with server.client.stream("POST", "/api/ask/stream", json=body) as resp:
            lines = list(resp.iter_lines())
        done = json.loads(lines[lines.index("event: done") + 1].removeprefix("data: "))
        full_tokens = sum(1 for line in lines if line == "event: token")
        prompt_tokens = done["timings"]["prompt_tokens"]
        assert full_tokens >= 40, f"the full answer is too short to test with ({full_tokens})"

        with server.client.stream("POST", "/api/ask/stream", json=body) as resp:
            for line in resp.iter_lines():
                if line == "event: token":
                    break
        assert wait_until(lambda: idle(server.service), within=5), "the model is still held"
        generated = tiny_llm.llama.n_tokens - prompt_tokens
        assert generated < full_tokens / 2, (generated, full_tokens)
    finally:
        server.service.settings.max_tokens = saved
    assert_answers(server)


# --- a per-request deadline ----------------------------------------------------------
def test_an_answer_past_the_deadline_ends_with_a_clear_504(server: Server) -> None:
    """With RAGQA_REQUEST_TIMEOUT shorter than the model needs, /api/ask answers 504 in the
    error shape, the stream ends with an ``error`` event, and the model is free again."""
    settings = server.service.settings
    saved = settings.request_timeout, settings.max_tokens
    settings.request_timeout, settings.max_tokens = 0.05, 400
    try:
        resp = server.client.post("/api/ask", json={"question": ANSWERABLE[3]})
        assert resp.status_code == 504, resp.text
        err = error_of(resp.json())
        assert err["code"] == "timeout" and err["status"] == 504
        assert "RAGQA_REQUEST_TIMEOUT" in err["message"]
        assert idle(server.service)

        with server.client.stream(
            "POST", "/api/ask/stream", json={"question": ANSWERABLE[4]}
        ) as resp:
            assert resp.status_code == 200
            lines = list(resp.iter_lines())
        events = [line.removeprefix("event: ") for line in lines if line.startswith("event:")]
        assert events[0] == "sources" and events[-1] == "error" and "done" not in events
        err = error_of(json.loads(lines[lines.index("event: error") + 1].removeprefix("data: ")))
        assert err["code"] == "timeout" and err["status"] == 504
        assert idle(server.service)
    finally:
        settings.request_timeout, settings.max_tokens = saved
    assert_answers(server)
