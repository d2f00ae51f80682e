"""``GET /metrics``: Prometheus text format, from a registry of each app's own.

Every app made by :func:`app.api.app.create_app` has its own
:class:`prometheus_client.CollectorRegistry` (``app.state.metrics``), never the global
one, so two apps in one process (the tests make many) never mix or clash.

What is measured:

- ``ragqa_http_requests_total{route,method,status}``: every request, by route template
  (``/api/documents/{doc_id}``, not the id), counted by an ASGI middleware outside all
  others, so refusals by the body guard (413) and CORS are counted too;
- ``ragqa_retrieval_seconds``, ``ragqa_first_token_seconds``, ``ragqa_answer_seconds``:
  histograms from each answer's timings (retrieval also from ``/api/retrieve``);
- ``ragqa_prompt_tokens_total``, ``ragqa_completion_tokens_total``;
- ``ragqa_answers_total{reason}``, ``ragqa_refusals_total{reason}`` (withheld answers,
  by reason: ``weak_retrieval``, ``model_refused``, ``not_stated``…);
- gauges read at scrape time: ``ragqa_queue_waiting``, ``ragqa_generating``,
  ``ragqa_index_documents``, ``ragqa_index_chunks``, ``ragqa_index_loaded``,
  ``ragqa_model_loaded``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import generate_latest
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.answer.types import Answer
from app.api.deps import require_read
from app.api.errors import ERROR_RESPONSES

# seconds: retrieval is milliseconds, a first token or an answer on a CPU is seconds
_FAST = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
_SLOW = (0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 300.0)


class _State(Collector):
    """Gauges read from the live service when scraped."""

    def __init__(self, app: Any) -> None:
        self.app = app

    def collect(self) -> Iterator[GaugeMetricFamily]:
        service = self.app.state.service
        current = service.index.current if service is not None else None
        snap = current.snapshot if current is not None else None
        values = {
            "ragqa_queue_waiting": ("Requests waiting for the model", 0),
            "ragqa_generating": ("Answers being generated now", 0),
            "ragqa_index_documents": ("Documents in the live index", 0),
            "ragqa_index_chunks": ("Passages (chunks) in the live index", 0),
            "ragqa_index_loaded": ("1 when an index is loaded", 0),
            "ragqa_model_loaded": ("1 when the language model is loaded", 0),
        }
        if service is not None:
            values["ragqa_queue_waiting"] = (values["ragqa_queue_waiting"][0], service.gate.waiting)
            values["ragqa_generating"] = (values["ragqa_generating"][0], service.gate.active)
            values["ragqa_model_loaded"] = (
                values["ragqa_model_loaded"][0],
                int(service.llm is not None),
            )
        if snap is not None:
            values["ragqa_index_documents"] = (
                values["ragqa_index_documents"][0],
                len(snap.documents),
            )
            values["ragqa_index_chunks"] = (values["ragqa_index_chunks"][0], snap.n_chunks)
            values["ragqa_index_loaded"] = (values["ragqa_index_loaded"][0], 1)
        for name, (doc, value) in values.items():
            yield GaugeMetricFamily(name, doc, value=float(value))


class Metrics:
    """One app's metrics and their registry."""

    def __init__(self, app: Any) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter(
            "ragqa_http_requests",
            "HTTP requests by route template, method and status",
            ["route", "method", "status"],
            registry=r,
        )
        self.retrieval = Histogram(
            "ragqa_retrieval_seconds", "Retrieval time per question", buckets=_FAST, registry=r
        )
        self.first_token = Histogram(
            "ragqa_first_token_seconds",
            "Time to the first answer token (answers that called the model)",
            buckets=_SLOW,
            registry=r,
        )
        self.total = Histogram(
            "ragqa_answer_seconds", "Total time per answer", buckets=_SLOW, registry=r
        )
        self.prompt_tokens = Counter(
            "ragqa_prompt_tokens", "Prompt tokens given to the model", registry=r
        )
        self.completion_tokens = Counter(
            "ragqa_completion_tokens", "Tokens the model generated", registry=r
        )
        self.answers = Counter(
            "ragqa_answers",
            "Answers by reason (`answered` or why withheld)",
            ["reason"],
            registry=r,
        )
        self.refusals = Counter(
            "ragqa_refusals", "Withheld answers by reason", ["reason"], registry=r
        )
        r.register(_State(app))

    def record_answer(self, answer: Answer) -> None:
        t = answer.timings
        self.retrieval.observe(t.retrieval_ms / 1000)
        if t.ttft_ms is not None:
            self.first_token.observe(t.ttft_ms / 1000)
        self.total.observe(t.total_ms / 1000)
        self.prompt_tokens.inc(t.prompt_tokens)
        self.completion_tokens.inc(t.completion_tokens)
        self.answers.labels(answer.reason).inc()
        if not answer.answerable:
            self.refusals.labels(answer.reason).inc()

    def record_retrieval(self, ms: float) -> None:
        self.retrieval.observe(ms / 1000)

    def render(self) -> bytes:
        return generate_latest(self.registry)


def metrics_of(request: Request) -> Metrics | None:
    metrics: Metrics | None = getattr(request.app.state, "metrics", None)
    return metrics


def record_answer(request: Request, answer: Answer) -> None:
    metrics = metrics_of(request)
    if metrics is not None:
        metrics.record_answer(answer)


class RequestCounter:
    """ASGI middleware: counts each HTTP request by route template and final status."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500  # an exception before any response

        async def counting_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, counting_send)
        finally:
            route = scope.get("route")
            path = getattr(route, "path", None)
            if path is None:
                path = "web" if not scope.get("path", "").startswith(("/api", "/v1")) else "other"
            self.metrics.requests.labels(path, scope.get("method", ""), str(status)).inc()


router = APIRouter(tags=["health"])


@router.get(
    "/metrics",
    dependencies=[Depends(require_read)],
    response_class=Response,
    responses={
        200: {"content": {CONTENT_TYPE_LATEST: {}}, "description": "Prometheus text"},
        **ERROR_RESPONSES,
    },
)
def metrics(request: Request) -> Response:
    """Prometheus metrics (text format): requests, latencies, tokens, refusals, queue,
    index size and model state. Needs the key when RAGQA_PROTECT_READS is set."""
    m = metrics_of(request)
    body = m.render() if m is not None else b""
    return Response(body, media_type=CONTENT_TYPE_LATEST)
