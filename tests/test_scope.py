"""Asking within some documents: retrieval (dense and BM25) is restricted to them, exactly,
with flat and HNSW indexes; a fact in an excluded document is never a source or citation."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from app.retrieval.scope import Scope
from app.vectorstore import snapshot as snapshot_module
from app.vectorstore.faiss_index import build_faiss
from app.vectorstore.snapshot import ChunkRecord, Snapshot
from tests.support import Server, read_sse

QUESTION = "How many tokens was Llama 2 trained on?"
FACT = "2 trillion"


# --- the vector search itself -------------------------------------------------------------
def synthetic_snapshot(n: int, ann_threshold: int) -> Snapshot:
    rng = np.random.default_rng(7)
    vecs = rng.normal(size=(n, 32)).astype(np.float32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    chunks = [
        ChunkRecord(i, f"d{i % 50}:{i}", f"d{i % 50}", i, 0, 1, None, "x", 1) for i in range(n)
    ]
    index = build_faiss(vecs, 32, ann_threshold)
    return Snapshot(Path("v-test"), {}, {}, chunks, vecs, index)


@pytest.mark.unit
@pytest.mark.parametrize("ann_threshold", [0, 100])  # flat, HNSW
@pytest.mark.parametrize("brute_force_rows", [20_000, 0])  # numpy, FAISS IDSelectorBatch
def test_scoped_vector_search_returns_the_true_best_of_the_scope(
    monkeypatch: pytest.MonkeyPatch, ann_threshold: int, brute_force_rows: int
) -> None:
    monkeypatch.setattr(snapshot_module, "SCOPE_BRUTE_FORCE_ROWS", brute_force_rows)
    snap = synthetic_snapshot(3000, ann_threshold)
    rng = np.random.default_rng(1)
    rows = np.sort(rng.choice(3000, size=60, replace=False)).astype(np.int64)  # 2 %
    for _ in range(5):
        q = rng.normal(size=32).astype(np.float32)
        q /= np.linalg.norm(q)
        scores, ids = snap.search(q, 10, rows)
        assert set(ids.tolist()) <= set(rows.tolist())
        truth = rows[np.argsort(-(snap.embeddings[rows] @ q))[:10]]
        assert ids.tolist() == truth.tolist()  # exact, HNSW index or not
        assert list(scores) == sorted(scores, reverse=True)


# --- through the service and over HTTP ------------------------------------------------------
def doc_ids(service: Any) -> tuple[str, str]:
    """(the document stating the fact, the other one)."""
    docs = service.snapshot.documents
    stating = [k for k, d in docs.items() if "trained on 2 trillion tokens" in d.text]
    other = [k for k in docs if k not in stating]
    assert len(stating) == 1 and other
    return stating[0], other[0]


def test_unscoped_retrieval_finds_the_fact(server: Server) -> None:
    client = server.client
    body = client.post("/api/retrieve", json={"question": QUESTION, "top_k": 5}).json()
    assert any(FACT in p["text"] for p in body["passages"])


def test_a_fact_in_an_excluded_document_is_never_retrieved_or_cited(
    server: Server,
) -> None:
    service, client = server.service, server.client
    stating, other = doc_ids(service)
    # /api/retrieve
    body = client.post(
        "/api/retrieve", json={"question": QUESTION, "top_k": 8, "documents": [other]}
    ).json()
    assert body["passages"] and {p["doc_id"] for p in body["passages"]} == {other}
    # /api/ask (real tiny model)
    answer = client.post(
        "/api/ask", json={"question": QUESTION, "top_k": 5, "documents": [other]}
    ).json()
    for c in answer["sources"] + answer["citations"]:
        assert c["doc_id"] == other and FACT not in c["text"]
    # /api/ask/stream
    with client.stream(
        "POST", "/api/ask/stream", json={"question": QUESTION, "top_k": 3, "documents": [other]}
    ) as resp:
        assert resp.status_code == 200
        events = read_sse(resp)
    sources = next(data for name, data in events if name == "sources")
    final = next(data for name, data in events if name == "citations")
    for c in sources + final["citations"]:
        assert c["doc_id"] == other and FACT not in c["text"]
    # /v1/chat/completions
    completion = client.post(
        "/v1/chat/completions",
        json={
            "messages": [{"role": "user", "content": QUESTION}],
            "top_k": 3,
            "documents": [other],
        },
    ).json()
    for c in completion["citations"]:
        assert c["doc_id"] == other and FACT not in c["text"]
    # and scoped to the document that states it, it is found
    body = client.post(
        "/api/retrieve", json={"question": QUESTION, "top_k": 5, "documents": [stating]}
    ).json()
    assert {p["doc_id"] for p in body["passages"]} == {stating}
    assert any(FACT in p["text"] for p in body["passages"])


def test_a_source_glob_scopes_by_path(server: Server) -> None:
    service, client = server.service, server.client
    stating, other = doc_ids(service)
    name = Path(service.snapshot.documents[other].source).name
    body = client.post(
        "/api/retrieve", json={"question": QUESTION, "source_glob": f"*/{name}"}
    ).json()
    assert body["passages"] and {p["doc_id"] for p in body["passages"]} == {other}
    scope = Scope.of(None, "*.md")
    assert scope is not None and set(scope.doc_ids(service.snapshot)) == {stating, other}


@pytest.mark.parametrize(
    "route", ["/api/ask", "/api/ask/stream", "/api/retrieve", "/v1/chat/completions"]
)
def test_unknown_document_ids_are_a_400_naming_them(server: Server, route: str) -> None:
    service, client = server.service, server.client
    _, other = doc_ids(service)
    body: dict[str, Any] = {"documents": [other, "nosuchdoc123"]}
    if route.startswith("/v1"):
        body["messages"] = [{"role": "user", "content": QUESTION}]
    else:
        body["question"] = QUESTION
    resp = client.post(route, json=body)
    assert resp.status_code == 400, resp.text
    err = resp.json()["error"]
    assert err["code"] == "unknown_documents" and "nosuchdoc123" in err["message"]
    assert other not in err["message"]


def test_a_glob_matching_nothing_is_a_400(server: Server) -> None:
    client = server.client
    resp = client.post("/api/retrieve", json={"question": QUESTION, "source_glob": "*.docx"})
    assert resp.status_code == 400 and "*.docx" in resp.json()["error"]["message"]
