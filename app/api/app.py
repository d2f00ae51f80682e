"""``create_app()``: the FastAPI application, a thin layer over :class:`RagService`."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.staticfiles import StaticFiles
from starlette.routing import Match, Mount
from starlette.types import Scope

from app.answer.service import RagService
from app.api.errors import install_error_handlers
from app.api.routers import ask, documents, health
from app.errors import RagqaError
from app.settings import Settings, get_settings

log = logging.getLogger("ragqa")
WEB_DIR = Path(__file__).resolve().parent.parent / "web"


class WebMount(Mount):
    """The web UI at "/", kept off /api: a mount at "/" matches every path fully, which
    would otherwise turn a wrong method on an API route (GET /api/ask) into a static 404
    instead of 405."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        path = scope.get("path", "")
        if path == "/api" or path.startswith("/api/"):
            return Match.NONE, {}
        return super().matches(scope)


def warm_up(service: RagService) -> None:
    """Evaluate the fixed system prompt once so the first question pays only for itself."""
    llm = service.llm
    if llm is None:
        return
    from app.answer.prompt import build_messages

    prompt = llm.render(build_messages("Hello", []))
    for _ in llm.stream(prompt, max_tokens=1):
        pass


def create_app(settings: Settings | None = None, service: RagService | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if app.state.service is None:
            app.state.service = build_service(settings, app.state.problems)
        yield

    app = FastAPI(
        title="ragqa",
        version="0.1.0",
        description="Local, private question answering over your articles, with citations.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.service = service
    app.state.problems = []
    install_error_handlers(app)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "DELETE"],
            allow_headers=["Authorization", "Content-Type"],
        )
    app.include_router(ask.router)
    app.include_router(documents.router)
    app.include_router(health.router)
    if (WEB_DIR / "index.html").is_file():
        app.router.routes.append(
            WebMount("/", app=StaticFiles(directory=WEB_DIR, html=True), name="web")
        )
    return app


def build_service(settings: Settings, problems: list[str]) -> RagService:
    """Load what can be loaded; record what cannot so /health tells."""
    from app.llm import load_llm

    service = RagService(settings)
    try:
        service.open_index()
    except RagqaError as exc:
        log.error("index not loaded: %s", exc.message)
        problems.append(exc.message)
    try:
        service.llm = load_llm(settings)
        warm_up(service)
    except RagqaError as exc:
        log.error("model not loaded: %s", exc.message)
        problems.append(exc.message)
    return service
