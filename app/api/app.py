"""``create_app()``: the FastAPI application, a thin layer over :class:`RagService` (the
answer path) and :class:`DocumentService` (uploads and deletes)."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.routing import Match, Mount
from starlette.types import Scope

from app.answer.examples import prompt_examples
from app.answer.service import RagService
from app.api.deps import document_auth
from app.api.errors import install_error_handlers
from app.api.guards import BodyGuard, ShapedCORSMiddleware
from app.api.metrics import Metrics, RequestCounter
from app.api.metrics import router as metrics_router
from app.api.openai_errors import OpenAIErrorShape
from app.api.routers import ask, documents, health, openai_compat
from app.errors import RagqaError
from app.llm.base import LLM, is_remote
from app.services.documents import DocumentService
from app.services.jobs import JobService
from app.settings import Settings, get_settings

log = logging.getLogger("ragqa")
WEB_DIR = Path(__file__).resolve().parent.parent / "web"


class WebMount(Mount):
    """The web UI at "/", kept off /api: a mount at "/" matches every path fully, which
    would otherwise turn a wrong method on an API route (GET /api/ask) into a static 404
    instead of 405."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        path = scope.get("path", "")
        if path in ("/api", "/v1") or path.startswith(("/api/", "/v1/")):
            return Match.NONE, {}
        return super().matches(scope)


def warm_up(service: RagService) -> None:
    """Evaluate the fixed system prompt once so the first question pays only for itself."""
    if service.llm is not None:
        warm_llm(service.llm, service.examples, prefix_cache_dir(service.settings))


def prefix_cache_dir(settings: Settings) -> Path | None:
    return settings.model_cache_dir / "prefix-states" if settings.prefix_cache else None


def warm_llm(
    llm: LLM, examples: Sequence[dict[str, str]] = (), cache_dir: Path | None = None
) -> None:
    """:func:`warm_up` for a model not yet given to a service: the fixed prefix (system
    prompt and worked examples) goes through the model once, so its KV cache is kept. A
    local model restores it from ``cache_dir`` if an earlier start saved it there."""
    from app.answer.prompt import build_messages
    from app.llm.local import LocalLLM

    try:
        prompt = llm.render(build_messages("Hello", [], examples=examples))
        if isinstance(llm, LocalLLM):
            how = llm.warm(prompt, cache_dir)
            log.info("prompt prefix %s (%d tokens)", how, len(prompt.tokens))
            return
        for _ in llm.stream(prompt, max_tokens=1):
            pass
    except RagqaError as exc:
        if not is_remote(llm):
            raise
        # a model server that is not up yet is no reason to refuse to start: /health tells
        log.warning("model server not warmed up: %s", exc.message)


def create_app(settings: Settings | None = None, service: RagService | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if app.state.service is None:
            app.state.service = build_service(settings, app.state.problems)
            app.state.documents = DocumentService(app.state.service.index)
            app.state.jobs = JobService(app.state.documents)
        yield

    app = FastAPI(
        title="ragqa",
        version="0.1.0",
        description="Local, private question answering over your articles, with citations.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.service = service
    app.state.documents = DocumentService(service.index) if service is not None else None
    app.state.jobs = JobService(app.state.documents) if app.state.documents is not None else None
    app.state.problems = []
    app.state.metrics = Metrics(app)  # its own registry, never the global one
    install_error_handlers(app)
    # body size, encoding and the upload key are checked before any route reads a byte
    app.add_middleware(BodyGuard, settings=settings)
    app.add_middleware(OpenAIErrorShape)  # /v1 errors also in OpenAI's shape
    if settings.cors_origins:  # closed by default; outermost, so refusals carry CORS headers
        app.add_middleware(
            ShapedCORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "DELETE"],
            allow_headers=["Authorization", "Content-Type"],
        )
    # outermost: every request is counted, refusals by the guards included
    app.add_middleware(RequestCounter, metrics=app.state.metrics)
    app.include_router(ask.router)
    app.include_router(documents.router)
    app.include_router(documents.jobs_router)
    app.include_router(health.router)
    app.include_router(metrics_router)
    app.include_router(openai_compat.router)
    if (WEB_DIR / "index.html").is_file():
        app.router.routes.append(
            WebMount("/", app=StaticFiles(directory=WEB_DIR, html=True), name="web")
        )
    document_auth(app, settings)  # the schema says where this server needs the key
    return app


def build_service(settings: Settings, problems: list[str]) -> RagService:
    """Load what can be loaded; record what cannot so /health tells.

    The model loads and warms up in a second thread while this one imports the embedder
    (torch, seconds of Python imports) and opens the index: the model's part is mostly C
    code that releases the GIL, so on two cores most of it is hidden (bench/startup.py).
    """
    from concurrent.futures import ThreadPoolExecutor

    from app.llm import load_llm

    t0 = time.perf_counter()
    stamps: dict[str, float] = {}

    def load_model() -> LLM:
        llm = load_llm(settings)
        stamps["model"] = time.perf_counter() - t0
        warm_llm(llm, prompt_examples(settings.prompt_examples), prefix_cache_dir(settings))
        stamps["warm"] = time.perf_counter() - t0
        return llm

    with ThreadPoolExecutor(1, thread_name_prefix="ragqa-model") as pool:
        model = pool.submit(load_model)
        service = RagService(settings)
        t_embedder = time.perf_counter() - t0
        try:
            service.open_index()
        except RagqaError as exc:
            log.error("index not loaded: %s", exc.message)
            problems.append(exc.message)
        t_index = time.perf_counter() - t0
        try:
            service.llm = model.result()
        except RagqaError as exc:
            log.error("model not loaded: %s", exc.message)
            problems.append(exc.message)
    log.info(
        "service ready in %.2f s: embedder loaded at %.2f s, index at %.2f s; in parallel, "
        "model loaded at %.2f s, warmed up at %.2f s",
        time.perf_counter() - t0,
        t_embedder,
        t_index,
        stamps.get("model", float("nan")),
        stamps.get("warm", float("nan")),
    )
    return service
