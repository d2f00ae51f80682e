"""Large uploads are jobs: 202 and a job to poll; progress in chunks; failures reported;
questions answered from the previous index meanwhile; a restart fails what it interrupted."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from app.api.app import create_app
from app.corpus import Document
from app.embedding import Embedder
from app.ingest.pipeline import embed_documents
from app.services.jobs import INTERRUPTED
from tests.support import Server, make_settings

ASYNC_MB = 0.002  # uploads over about 2 KB are jobs here (the default is 1 MB)
SERVER_SETTINGS = {"async_upload_mb": ASYNC_MB}


def article(n: int) -> bytes:
    """A plain-text article of ``n`` paragraphs about a fictional glacier."""
    paras = [
        f"Paragraph {i}: the Orvendal glacier retreated {10 + i} metres in survey year "
        f"{1990 + i}, according to the Orvendal Field Station, which measured it with "
        "stakes drilled into the ice at the start and end of every summer season."
        for i in range(n)
    ]
    return ("Orvendal glacier survey\n\n" + "\n\n".join(paras)).encode()


def wait_for(client: httpx.Client, job_id: str, states: set[str], timeout: float = 120) -> dict:  # type: ignore[type-arg]
    deadline = time.monotonic() + timeout
    while True:
        job = client.get(f"/api/jobs/{job_id}").json()
        if job["state"] in states or time.monotonic() > deadline:
            return job  # type: ignore[no-any-return]
        time.sleep(0.1)


def upload(client: httpx.Client, name: str, data: bytes) -> httpx.Response:
    return client.post("/api/documents", files={"file": (name, data, "text/plain")})


def test_a_small_upload_is_indexed_at_once(server: Server) -> None:
    client = server.client
    resp = upload(client, "small.txt", b"Small note\n\nThe Orvendal hut has 12 bunks.")
    assert resp.status_code == 201, resp.text


def test_a_large_upload_is_a_job_that_reports_progress_and_its_document(
    server: Server,
) -> None:
    client = server.client
    data = article(40)
    assert len(data) > ASYNC_MB * 1024 * 1024
    resp = upload(client, "glacier.txt", data)
    assert resp.status_code == 202, resp.text
    job = resp.json()
    assert job["state"] in ("queued", "running", "done") and job["filename"] == "glacier.txt"
    assert resp.headers["location"] == f"/api/jobs/{job['job_id']}"
    job = wait_for(client, job["job_id"], {"done", "failed"})
    assert job["state"] == "done", job
    assert job["error"] is None
    assert job["chunks_total"] and job["chunks_done"] == job["chunks_total"]
    doc = job["document"]
    assert doc["title"] == "Orvendal glacier survey" and doc["n_chunks"] == job["chunks_total"]
    passages = client.post(
        "/api/retrieve", json={"question": "How far did the Orvendal glacier retreat in 1995?"}
    ).json()["passages"]
    assert any(p["doc_id"] == doc["doc_id"] for p in passages)


def test_a_large_binary_under_a_text_name_is_refused_at_once(
    server: Server,
) -> None:
    client = server.client
    resp = upload(client, "binary.txt", b"\x00\x01\x02ELF\x00" * 2000)
    assert resp.status_code == 415 and "not text" in resp.json()["error"]["message"]


def test_a_job_whose_file_is_not_readable_fails_with_the_reason(
    server: Server,
) -> None:
    client = server.client
    resp = client.post(
        "/api/documents",
        files={"file": ("broken.pdf", b"%PDF-1.4\n" + b"garbage " * 1000, "application/pdf")},
    )
    assert resp.status_code == 202
    job = wait_for(client, resp.json()["job_id"], {"done", "failed"})
    assert job["state"] == "failed" and "not a readable PDF" in job["error"], job
    assert job["document"] is None


def test_an_unknown_job_is_a_404(server: Server) -> None:
    client = server.client
    resp = client.get("/api/jobs/nosuchjob")
    assert resp.status_code == 404 and resp.json()["error"]["code"] == "job_not_found"


def test_questions_are_answered_from_the_previous_index_during_a_job_and_a_restart_fails_it(
    server: Server,
    embedder: Embedder,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    service, client = server.service, server.client
    release = threading.Event()
    blocked = threading.Event()
    original = embedder.embed

    def embed_blocking_the_job(texts: Any, progress: bool = False) -> Any:
        if threading.current_thread().name == "ragqa-upload-jobs":
            blocked.set()
            release.wait(60)
        return original(texts, progress)

    monkeypatch.setattr(embedder, "embed", embed_blocking_the_job)
    before = {d["doc_id"] for d in client.get("/api/documents").json()["documents"]}
    resp = upload(client, "glacier-2.txt", article(30).replace(b"Orvendal", b"Tarnheim"))
    assert resp.status_code == 202
    job_id = resp.json()["job_id"]
    try:
        assert blocked.wait(60)
        job = client.get(f"/api/jobs/{job_id}").json()
        assert job["state"] == "running" and job["chunks_total"] > 0 and job["chunks_done"] == 0
        # the previous index keeps answering, with the model
        answer = client.post(
            "/api/ask", json={"question": "How many tokens was Llama 2 trained on?", "top_k": 2}
        )
        assert answer.status_code == 200 and answer.json()["sources"]
        listed = {d["doc_id"] for d in client.get("/api/documents").json()["documents"]}
        assert listed == before
        # a server started now (the old one "gone") reports the job as interrupted
        with TestClient(create_app(service.settings, service)) as restarted:
            job = restarted.get(f"/api/jobs/{job_id}").json()
            assert job["state"] == "failed" and job["error"] == INTERRUPTED
    finally:
        release.set()
    job = wait_for(client, job_id, {"done", "failed"})
    assert job["state"] == "done"


def test_ingest_shows_a_bar_of_chunks_per_second(
    tmp_path: Path, embedder: Embedder, capsys: pytest.CaptureFixture[str]
) -> None:
    doc = Document(str(tmp_path / "a.txt"), "Glacier", article(20).decode())
    [new] = embed_documents([doc], embedder, make_settings(tmp_path), progress=True)
    err = capsys.readouterr().err
    assert "embedding" in err and "chunk/s" in err and f"{len(new.chunks)}/{len(new.chunks)}" in err
