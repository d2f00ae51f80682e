"""GET /metrics: Prometheus text, scraped from a real uvicorn server after real questions
(tiny model); the counts match what was asked."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from app.api.app import create_app
from app.embedding import Embedder
from app.llm.local import LocalLLM
from tests.support import make_settings, running, service_on_copy


@pytest.fixture(scope="module")
def service(
    tmp_path_factory: pytest.TempPathFactory,
    demo_index: Path,
    embedder: Embedder,
    tiny_llm: LocalLLM,
) -> Any:
    return service_on_copy(tmp_path_factory.mktemp("metrics"), demo_index, embedder, tiny_llm)


def scrape(client: httpx.Client) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    resp = client.get("/metrics")
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"].startswith("text/plain")
    samples = {}
    for family in text_string_to_metric_families(resp.text):
        for s in family.samples:
            samples[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return samples


def value(samples: dict[Any, float], name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_metrics_count_requests_latencies_tokens_and_refusals(service: Any) -> None:
    with running(service) as server:
        client = server.client
        before = scrape(client)
        assert (
            value(
                before, "ragqa_http_requests_total", route="/api/ask", method="POST", status="200"
            )
            == 0
        )
        answers = [
            client.post("/api/ask", json={"question": q, "top_k": 2}).json()
            for q in ("How many tokens was Llama 2 trained on?", "Who leaked LLaMA?")
        ]
        # withheld before the model: weak retrieval
        weak = client.post(
            "/api/ask", json={"question": "Best recipe for sourdough bread with rye flour?"}
        ).json()
        assert weak["reason"] == "weak_retrieval"
        answers.append(weak)
        client.post("/api/retrieve", json={"question": "Who leaked LLaMA?"}).raise_for_status()
        bad = client.post("/api/ask", json={"question": "x?", "documents": ["nosuchdoc"]})
        assert bad.status_code == 400
        assert client.get("/api/documents/nosuchdoc").status_code == 404
        samples = scrape(client)

    def requests(route: str, status: str, method: str = "POST") -> float:
        return value(
            samples, "ragqa_http_requests_total", route=route, method=method, status=status
        )

    assert requests("/api/ask", "200") == 3
    assert requests("/api/ask", "400") == 1
    assert requests("/api/retrieve", "200") == 1
    assert requests("/api/documents/{doc_id}", "404", "GET") == 1  # the template, not the id
    assert requests("/metrics", "200", "GET") == 1  # the first scrape
    # latencies: one retrieval per answer and per /api/retrieve; first token per model call
    called = [a for a in answers if a["timings"]["ttft_ms"] is not None]
    assert len(called) == 2
    assert value(samples, "ragqa_retrieval_seconds_count") == 4
    assert value(samples, "ragqa_answer_seconds_count") == 3
    assert value(samples, "ragqa_first_token_seconds_count") == 2
    assert value(samples, "ragqa_answer_seconds_sum") == pytest.approx(
        sum(a["timings"]["total_ms"] for a in answers) / 1000, rel=1e-3
    )
    assert value(samples, "ragqa_prompt_tokens_total") == sum(
        a["timings"]["prompt_tokens"] for a in answers
    )
    assert value(samples, "ragqa_completion_tokens_total") == sum(
        a["timings"]["completion_tokens"] for a in answers
    )
    reasons: dict[str, int] = {}
    for a in answers:
        reasons[a["reason"]] = reasons.get(a["reason"], 0) + 1
    for reason, n in reasons.items():
        assert value(samples, "ragqa_answers_total", reason=reason) == n
        if reason != "answered":
            assert value(samples, "ragqa_refusals_total", reason=reason) == n
    assert value(samples, "ragqa_refusals_total", reason="weak_retrieval") >= 1
    # state
    assert value(samples, "ragqa_index_documents") == len(service.snapshot.documents)
    assert value(samples, "ragqa_index_chunks") == service.snapshot.n_chunks
    assert value(samples, "ragqa_model_loaded") == 1
    assert value(samples, "ragqa_index_loaded") == 1
    assert value(samples, "ragqa_queue_waiting") == 0
    assert value(samples, "ragqa_generating") == 0


def test_each_app_has_its_own_registry(service: Any) -> None:
    a, b = create_app(service.settings, service), create_app(service.settings, service)
    assert a.state.metrics.registry is not b.state.metrics.registry


def test_metrics_follow_the_read_protection(service: Any, tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    protected = make_settings(tmp_path, api_key="s3cret-key", protect_reads=True)
    open_reads = make_settings(tmp_path, api_key="s3cret-key")
    with TestClient(create_app(protected, service)) as client:
        assert client.get("/metrics").status_code == 401
        ok = client.get("/metrics", headers={"Authorization": "Bearer s3cret-key"})
        assert ok.status_code == 200 and "ragqa_index_chunks" in ok.text
    with TestClient(create_app(open_reads, service)) as client:
        assert client.get("/metrics").status_code == 200
