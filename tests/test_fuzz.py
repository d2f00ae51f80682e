"""Fuzz every operation of the API from its own OpenAPI schema with schemathesis.

The server is real (uvicorn on 127.0.0.1, a copy of the demo index, the real embedder and
the tiny GGUF). For every operation schemathesis generates schema-valid requests
("positive") and schema-violating ones ("negative"), a bounded and deterministic number of
each (``derandomize``), and every response must:

- not be a server error (5xx),
- have a status code, content type and body the schema documents,
- for negative requests, be refused with a 4xx,
- when it is an error, have the one error shape ``{"error": {"code", "message", "status"}}``
  (under ``/v1``, the OpenAI-compatible routes, with OpenAI's ``type`` and ``param`` too).

Not checked: that schema-valid requests succeed (``positive_data_acceptance``): the schema
cannot say that an upload must contain text, or that a question must hold more than
whitespace, so a 4xx to a schema-valid request is often right.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from app.answer.service import RagService
from app.api.app import create_app
from app.embedding import Embedder
from app.llm.local import LocalLLM
from app.services.documents import DocumentService
from tests.support import make_settings, running_on_copy

MAX_EXAMPLES = 25  # per operation and generation mode
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def _operations() -> list[tuple[str, str]]:
    """(method, path) of every operation in the app's OpenAPI schema (no service needed)."""
    app = create_app(make_settings(Path("/nonexistent-ragqa-fuzz")))
    paths: dict[str, dict[str, Any]] = app.openapi()["paths"]
    return [(method.upper(), path) for path, ops in paths.items() for method in ops]


OPERATIONS = _operations()


@dataclass
class FuzzServer:
    url: str
    service: RagService
    schema: Any
    stats: dict[str, Counter[int]] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)


@pytest.fixture(scope="module")
def fuzz_server(
    tmp_path_factory: pytest.TempPathFactory,
    demo_index: Path,
    embedder: Embedder,
    tiny_llm: LocalLLM,
) -> Iterator[FuzzServer]:
    with running_on_copy(tmp_path_factory.mktemp("fuzz"), demo_index, embedder, tiny_llm) as s:
        schema = schemathesis.openapi.from_url(f"{s.url}/openapi.json")
        server = FuzzServer(s.url, s.service, schema)
        yield server
        total = sum(sum(c.values()) for c in server.stats.values())
        print(f"\nschemathesis: {total} requests over {len(server.stats)} operation/mode pairs")
        for name, counts in sorted(server.stats.items()):
            print(
                f"  {name}: {sum(counts.values())} requests in {server.seconds[name]:.1f} s, "
                f"statuses {dict(sorted(counts.items()))}"
            )


def assert_error_shape(response: httpx.Response | Any, path: str) -> None:
    """Every error, whatever route or input produced it, has the documented shape (under
    /v1 with OpenAI's ``type`` and ``param`` besides)."""
    if response.status_code < 400:
        return
    body = response.json()
    assert set(body) == {"error"}, body
    err = body["error"]
    extra = {"type", "param"} if path.startswith("/v1/") else set()
    assert set(err) == {"code", "message", "status"} | extra, err
    assert err["status"] == response.status_code, err
    assert isinstance(err["code"], str) and err["code"]
    assert isinstance(err["message"], str) and err["message"].strip()


@pytest.mark.parametrize(
    "mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=["positive", "negative"]
)
@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_operation_survives_generated_requests(
    fuzz_server: FuzzServer, method: str, path: str, mode: GenerationMode
) -> None:
    operation = fuzz_server.schema[path][method]
    negative = mode == GenerationMode.NEGATIVE
    has_input = bool(list(operation.iter_parameters())) or bool(list(operation.body))
    if negative and not has_input:
        pytest.skip("no parameters or body to make invalid")
    checks = [*CHECKS, negative_data_rejection] if negative else CHECKS
    statuses: Counter[int] = Counter()

    @settings(
        max_examples=MAX_EXAMPLES,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
        phases=[Phase.explicit, Phase.generate, Phase.shrink],
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case: Any) -> None:
        response = case.call(timeout=120)
        statuses[response.status_code] += 1
        case.validate_response(response, checks=checks)
        if negative:
            assert 400 <= response.status_code < 500, response.text[:300]
        assert_error_shape(response, path)

    start = time.perf_counter()
    try:
        run()
    except Unsatisfiable:
        # e.g. GET /api/documents/{doc_id}: any string is a valid id, so no request can
        # violate the schema
        assert not statuses, "schemathesis gave up after sending requests"
        pytest.skip("the schema admits every value here: no invalid request exists")
    name = f"{method} {path} [{mode}]"
    fuzz_server.stats[name] = statuses
    fuzz_server.seconds[name] = time.perf_counter() - start
    assert sum(statuses.values()) >= 1


def test_fuzzing_lost_no_document(fuzz_server: FuzzServer, demo_index: Path) -> None:
    """After all of the above the demo documents are still there and the index loads."""
    original = RagService(make_settings(demo_index.parent), embedder=fuzz_server.service.embedder)
    original.open_index()
    with httpx.Client(base_url=fuzz_server.url, timeout=30) as client:
        listed = {d["doc_id"] for d in client.get("/api/documents").json()["documents"]}
        assert client.get("/health").status_code == 200
    assert {d.doc_id for d in DocumentService(original.index).list_documents()} <= listed
    reloaded = RagService(fuzz_server.service.settings, embedder=fuzz_server.service.embedder)
    assert {d.doc_id for d in reloaded.open_index().documents.values()} == listed
