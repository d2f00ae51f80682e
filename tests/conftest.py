"""Shared fixtures and hooks: the real embedder, a real index of the demo corpus, the tiny
GGUF model; the strict-skips check. (Shared helpers are in tests/support.py.)

Everything here is real: sentence-transformers all-MiniLM-L6-v2 (bundled), FAISS, SQLite
and SmolLM2-135M through llama-cpp-python. Loading costs seconds, so the heavy pieces are
session-scoped.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from app.answer.service import RagService  # noqa: E402
from app.embedding import Embedder, get_embedder  # noqa: E402
from app.llm.local import LocalLLM  # noqa: E402
from app.llm.model_files import tiny_model_path  # noqa: E402
from tests.support import (  # noqa: E402
    ARTICLES,
    Server,
    make_settings,
    running_on_copy,
    service_on_copy,
)


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    return get_embedder("bundled:all-MiniLM-L6-v2")


@pytest.fixture(scope="session")
def tiny_llm() -> LocalLLM:
    return LocalLLM(tiny_model_path(), n_ctx=2048, n_threads=2)


@pytest.fixture(scope="session")
def demo_index(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Path:
    """An index of the demo corpus, built once; tests copy it before changing it."""
    tmp = tmp_path_factory.mktemp("demo")
    service = RagService(make_settings(tmp), embedder=embedder)
    service.ingest([ARTICLES])
    return tmp / "index"


@pytest.fixture
def index_copy(tmp_path: Path, demo_index: Path) -> Path:
    target = tmp_path / "index"
    shutil.copytree(demo_index, target)
    return target


@pytest.fixture(scope="session")
def demo_service(
    tmp_path_factory: pytest.TempPathFactory,
    demo_index: Path,
    embedder: Embedder,
    tiny_llm: LocalLLM,
) -> Iterator[RagService]:
    yield service_on_copy(tmp_path_factory.mktemp("svc"), demo_index, embedder, tiny_llm)


@pytest.fixture(scope="module")
def server(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    demo_index: Path,
    embedder: Embedder,
    tiny_llm: LocalLLM,
) -> Iterator[Server]:
    """A real ragqa server (uvicorn on loopback) over the module's own copy of the demo
    index, the real embedder and the tiny GGUF; a module changes its settings with
    ``SERVER_SETTINGS = {...}`` (as keyword arguments of :func:`make_settings`)."""
    settings: dict[str, Any] = getattr(request.module, "SERVER_SETTINGS", {})
    tmp = tmp_path_factory.mktemp(request.module.__name__.rsplit(".", 1)[-1])
    with running_on_copy(tmp, demo_index, embedder, tiny_llm, **settings) as s:
        yield s


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> object:
    """Keep each phase's report on the test item (``item.rep_call``), so fixtures can tell
    in their teardown whether the test failed (the browser tests save a screenshot then)."""
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


# --- skips: none hidden in CI ------------------------------------------------------------
# With RAGQA_STRICT_SKIPS=1 (scripts/test.sh sets it) a skip that matches no entry here fails
# the session: a test that cannot run is a test that cannot fail, so each entry must say why
# it cannot run where it is skipped. (nodeid pattern, skip reason must contain, why allowed)
# Patterns are fnmatch patterns: a literal "[" in a node id is written "[[]".
SKIP_ALLOWLIST: list[tuple[str, str, str]] = [
    (
        "tests/test_fuzz.py::test_operation_survives_generated_requests[[]*-negative[]]",
        "no parameters or body to make invalid",
        "an operation without parameters or body has no invalid request to send",
    ),
    (
        "tests/test_fuzz.py::test_operation_survives_generated_requests[[]*-negative[]]",
        "the schema admits every value here",
        "e.g. GET /api/documents/{doc_id}: every string is a valid id, so schemathesis can "
        "build no invalid request (the test asserts it sent none before giving up)",
    ),
    (
        "tests/test_portable_build.py::test_the_installed_llama_cpp_uses_no_avx512_and_no_amx",
        "x86-64 instruction sets only",
        "AVX-512 and AMX exist only on x86-64; on another machine there is nothing to check",
    ),
    (
        "tests/test_faults.py::test_a_full_disk_while_writing_fails_clearly_and_keeps_the_old_index",
        "not root",
        "mounting the small tmpfs needs root (CAP_SYS_ADMIN); as root a failed mount fails the "
        "test instead of skipping it, and CI runs as root",
    ),
]


def _skip_reason(report: pytest.TestReport | pytest.CollectReport) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ")
    return str(longrepr)


def skip_is_allowed(nodeid: str, reason: str) -> bool:
    import fnmatch

    return any(
        fnmatch.fnmatchcase(nodeid, pattern) and needle in reason
        for pattern, needle, _why in SKIP_ALLOWLIST
    )


_UNLISTED_SKIPS: list[tuple[str, str]] = []


def _note_skip(report: pytest.TestReport | pytest.CollectReport) -> None:
    if report.skipped and not hasattr(report, "wasxfail"):
        reason = _skip_reason(report)
        if not skip_is_allowed(report.nodeid, reason):
            _UNLISTED_SKIPS.append((report.nodeid, reason))


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    _note_skip(report)


def pytest_collectreport(report: pytest.CollectReport) -> None:
    _note_skip(report)  # a module skipped as a whole (pytest.skip(allow_module_level=True))


def _strict_skips() -> bool:
    return os.environ.get("RAGQA_STRICT_SKIPS") == "1"


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    ok = (pytest.ExitCode.OK, pytest.ExitCode.NO_TESTS_COLLECTED)
    if _strict_skips() and _UNLISTED_SKIPS and exitstatus in ok:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not _UNLISTED_SKIPS:
        return
    strict = _strict_skips()
    title = "skips not in the allowlist" + (
        " (RAGQA_STRICT_SKIPS=1: the session fails)" if strict else ""
    )
    terminalreporter.section(title, sep="=", red=strict, yellow=not strict)
    for nodeid, reason in _UNLISTED_SKIPS:
        terminalreporter.line(f"{nodeid}: {reason}")
    terminalreporter.line(
        "Make the test run here, or add it to SKIP_ALLOWLIST in tests/conftest.py saying why "
        "it cannot."
    )
