"""Helpers the tests share (imported as ``tests.support``; conftest.py holds only fixtures
and hooks): settings isolated from the developer's environment, services over copies of
the demo index, and real servers on loopback."""

from __future__ import annotations

import hashlib
import json
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import httpx

from app.answer.checks import AnswerContext
from app.answer.citations import parse_citations
from app.answer.service import LLM, RagService
from app.answer.types import Citation
from app.embedding import Embedder
from app.llm.model_files import tiny_model_path
from app.services.documents import DocumentService
from app.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
ARTICLES = ROOT / "data" / "articles"


def one_source(text: str, title: str, **kw: Any) -> Citation:
    """A whole made-up document as source [1] (``published``, ``author`` in ``kw``)."""
    return Citation(
        number=1, doc_id="d", title=title, source="x.md", chunk_id="d:0",
        start=0, end=len(text), text=text, score=0.5, **kw,
    )  # fmt: skip


def answer_context(question: str, sources: list[Citation], answer: str) -> AnswerContext:
    """What the answer checks see when the model says ``answer`` over ``sources``."""
    return AnswerContext(question, sources, answer, parse_citations(answer, len(sources)))


def make_settings(tmp: Path, **kw: object) -> Settings:
    """Settings isolated from the developer's environment and .env."""
    values: dict[str, object] = {
        "index_dir": tmp / "index",
        "models_dir": tmp / "no-models",
        "model_path": tiny_model_path(),
        "n_ctx": 2048,
        "max_tokens": 64,
    }
    values.update(kw)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def service_on_copy(
    tmp: Path, demo_index: Path, embedder: Embedder, llm: LLM | None, **settings: Any
) -> RagService:
    """A service over its own copy of the demo index (in ``tmp/index``), index opened."""
    shutil.copytree(demo_index, tmp / "index")
    service = RagService(make_settings(tmp, **settings), embedder=embedder, llm=llm)
    service.open_index()
    return service


def index_state(index_dir: Path) -> dict[str, object]:
    """What a write would change: the CURRENT pointer, the live manifest, the stored
    uploads. Equal before and after a refused request means nothing was written."""
    current = (index_dir / "CURRENT").read_text().strip()
    manifest = (index_dir / current / "manifest.json").read_bytes()
    uploads = index_dir / "uploads"
    return {
        "current": current,
        "manifest_sha256": hashlib.sha256(manifest).hexdigest(),
        "uploads": sorted(p.name for p in uploads.iterdir()) if uploads.is_dir() else [],
    }


@contextmanager
def serve_app(app: Any) -> Iterator[str]:
    """Run ``app`` under a real uvicorn on a free loopback port; yield its base URL."""
    import uvicorn

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    keep_alive = getattr(getattr(app.state, "settings", None), "keep_alive", 30)
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", timeout_keep_alive=keep_alive
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"uvicorn-{port}", daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"{base}/health", timeout=2).status_code in (200, 503):
                break
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline or not thread.is_alive():
            server.should_exit = True
            raise RuntimeError(f"uvicorn did not start on port {port}")
        time.sleep(0.05)
    try:
        yield base
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@dataclass
class Server:
    """A ragqa server on loopback (:func:`running`), its service and an HTTP client."""

    url: str
    service: RagService
    client: httpx.Client
    app: Any = field(repr=False, default=None)

    @property
    def settings(self) -> Settings:
        return self.service.settings

    def state(self) -> dict[str, object]:
        """The index files a write would change (:func:`index_state`)."""
        return index_state(self.settings.index_dir)

    def doc_ids(self) -> list[str]:
        return sorted(self.service.snapshot.documents)

    @property
    def documents(self) -> DocumentService:
        """The app's document service (uploads and deletes without HTTP)."""
        documents: DocumentService = self.app.state.documents
        return documents

    @cached_property
    def openai(self) -> Any:
        """The official ``openai`` client of this server's ``/v1`` (with its key, if set)."""
        import openai

        key = self.settings.api_key or "anything"
        return openai.OpenAI(base_url=f"{self.url}/v1", api_key=key, max_retries=0, timeout=300)


@contextmanager
def running(service: RagService, timeout: float = 120) -> Iterator[Server]:
    """``create_app`` over ``service``, served on loopback for the ``with`` block."""
    from app.api.app import create_app

    app = create_app(service.settings, service)
    with serve_app(app) as url, httpx.Client(base_url=url, timeout=timeout) as client:
        server = Server(url, service, client, app)
        try:
            yield server
        finally:
            if "openai" in server.__dict__:
                server.openai.close()


@contextmanager
def running_on_copy(
    tmp: Path, demo_index: Path, embedder: Embedder, llm: LLM | None, **settings: Any
) -> Iterator[Server]:
    """A server over its own copy of the demo index (:func:`service_on_copy`)."""
    with running(service_on_copy(tmp, demo_index, embedder, llm, **settings)) as server:
        yield server


def read_sse(resp: httpx.Response) -> list[tuple[str, Any]]:
    """Parse a server-sent event stream into ``(event, decoded data)`` pairs."""
    events: list[tuple[str, Any]] = []
    name, data = "message", []  # type: tuple[str, list[str]]
    for line in resp.iter_lines():
        if not line:
            if data:
                events.append((name, json.loads("\n".join(data))))
            name, data = "message", []
        elif line.startswith(":"):
            continue  # comment / keep-alive ping
        elif line.startswith("event:"):
            name = line[len("event:") :].strip()
        elif line.startswith("data:"):
            data.append(line[len("data:") :].removeprefix(" "))
    if data:
        events.append((name, json.loads("\n".join(data))))
    return events
