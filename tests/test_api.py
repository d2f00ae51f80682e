"""The HTTP API, exercised through a real uvicorn server on 127.0.0.1.

The server serves a copy of the demo index with the real embedder and the real tiny GGUF
(SmolLM2-135M). That model is weak, so these tests assert the *shape* of answers and the
truth of their source spans, never what the answer says.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.api.app import WEB_DIR
from app.embedding import Embedder
from app.llm.local import LocalLLM
from app.llm.model_files import tiny_model_path
from tests.support import Server, read_sse, running_on_copy

LLAMA_QUESTION = "How many tokens was Llama 2 trained on?"
TOP_K = 3

ZORBLAX_MD = (
    "# Zorblax Reactor\n\n"
    "The Zorblax reactor on Io produces 42 gigawatts of power from volcanic sulphur. "
    "It was switched on in 2091 by the Jovian Energy Cooperative and is cooled by "
    "liquid nitrogen pumped from the moon's night side.\n"
)
# the tiny model answers this one (greedy decoding: always the same answer)
ANSWERED_QUESTION = "What is the context length of Llama 2?"
EMPTY_UPLOAD_STATUS, EMPTY_UPLOAD_CODE = 415, "unsupported_document"
ZORBLAX_QUESTION = "How many gigawatts does the Zorblax reactor on Io produce?"

SOURCE_FIELDS = {"number", "doc_id", "title", "source", "chunk_id", "start", "end", "text", "score"}


# --- servers ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def keyed_server(
    tmp_path_factory: pytest.TempPathFactory,
    demo_index: Path,
    embedder: Embedder,
    tiny_llm: LocalLLM,
) -> Iterator[httpx.Client]:
    """A second server whose writes need ``Authorization: Bearer s3cret``."""
    with running_on_copy(
        tmp_path_factory.mktemp("api-key"), demo_index, embedder, tiny_llm, api_key="s3cret"
    ) as s:
        yield s.client


# --- helpers ----------------------------------------------------------------------------
def assert_error(resp: httpx.Response, status: int, code: str | None = None) -> dict[str, Any]:
    """The one error shape: ``{"error": {"code", "message", "status"}}``."""
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert set(body) == {"error"}, body
    err = body["error"]
    assert set(err) == {"code", "message", "status"}, err
    assert err["status"] == status
    assert isinstance(err["code"], str) and err["code"]
    assert isinstance(err["message"], str) and err["message"].strip()
    if code is not None:
        assert err["code"] == code, err
    return err


def document_ids(client: httpx.Client) -> list[str]:
    resp = client.get("/api/documents")
    assert resp.status_code == 200
    body = resp.json()
    assert body["total"] == len(body["documents"])
    return [d["doc_id"] for d in body["documents"]]


def ask(client: httpx.Client, question: str, top_k: int = TOP_K) -> dict[str, Any]:
    resp = client.post("/api/ask", json={"question": question, "top_k": top_k})
    assert resp.status_code == 200, resp.text
    body: dict[str, Any] = resp.json()
    return body


def upload(
    client: httpx.Client,
    name: str,
    data: bytes,
    content_type: str = "text/markdown",
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    files = {"file": (name, data, content_type)}
    return client.post("/api/documents", files=files, headers=headers)


@pytest.fixture
def zorblax(server: Server) -> Iterator[dict[str, Any]]:
    """The made-up Zorblax article, uploaded; removed again after the test if still there."""
    resp = upload(server.client, "zorblax.md", ZORBLAX_MD.encode())
    assert resp.status_code == 201, resp.text
    info: dict[str, Any] = resp.json()
    yield info
    server.client.delete(f"/api/documents/{info['doc_id']}")


# --- health and docs --------------------------------------------------------------------
def test_health_reports_a_loaded_index_and_model(server: Server) -> None:
    resp = server.client.get("/health")
    assert resp.status_code == 200
    body = resp.json()
    assert body["status"] == "ok"
    assert body["index_loaded"] is True
    assert body["model_loaded"] is True
    assert body["documents"] > 0
    assert body["chunks"] > 0
    assert body["problems"] == []


def test_docs_page_is_html(server: Server) -> None:
    resp = server.client.get("/docs")
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("text/html")
    assert "<html" in resp.text.lower()


def test_openapi_schema_lists_the_ask_endpoint(server: Server) -> None:
    resp = server.client.get("/openapi.json")
    assert resp.status_code == 200
    paths = resp.json()["paths"]
    assert "post" in paths["/api/ask"]
    assert "post" in paths["/api/ask/stream"]


def test_root_serves_the_web_page(server: Server) -> None:
    resp = server.client.get("/")
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("text/html")
    assert resp.text == (WEB_DIR / "index.html").read_text(encoding="utf-8")


# --- asking -----------------------------------------------------------------------------
def test_ask_returns_an_answer_with_sources_and_timings(server: Server) -> None:
    body = ask(server.client, LLAMA_QUESTION)
    assert isinstance(body["answer"], str) and body["answer"].strip()
    assert isinstance(body["answerable"], bool)
    assert isinstance(body["citations"], list)
    assert isinstance(body["sources"], list) and 1 <= len(body["sources"]) <= TOP_K
    for source in body["sources"]:
        assert set(source) >= SOURCE_FIELDS, source
        assert 0 <= source["start"] < source["end"]
    assert [s["number"] for s in body["sources"]] == list(range(1, len(body["sources"]) + 1))
    source_chunks = {s["chunk_id"] for s in body["sources"]}
    assert {c["chunk_id"] for c in body["citations"]} <= source_chunks
    timings = body["timings"]
    assert timings["retrieval_ms"] > 0  # embedding the question alone takes milliseconds
    # each is rounded to 0.01 ms
    assert timings["total_ms"] >= timings["retrieval_ms"] + timings["generation_ms"] - 0.02
    if body["answerable"]:
        assert timings["prompt_tokens"] > 0


def test_ask_reports_the_tiny_model_by_file_name(server: Server) -> None:
    assert ask(server.client, LLAMA_QUESTION)["model"] == tiny_model_path().name


def test_ask_on_the_demo_corpus_calls_the_model_and_answers(server: Server) -> None:
    """A question the demo articles answer: the model is asked (the prompt was counted, it
    generated tokens) and its answer is reported, cited. The tiny model decodes greedily, so
    this question's outcome is fixed; a model, prompt or check that refuses everything
    fails here (``model_refused``, ``unsupported`` and ``weak_retrieval`` all do)."""
    body = ask(server.client, ANSWERED_QUESTION, top_k=4)
    assert body["reason"] == "answered", body["answer"]
    assert body["answerable"] is True and body["citations"]
    assert body["timings"]["prompt_tokens"] > 0 and body["timings"]["completion_tokens"] > 0
    assert body["timings"]["ttft_ms"] is not None


def test_every_source_is_a_true_span_of_its_document(server: Server) -> None:
    """A source's text is the document text [start:end) as GET /api/documents/{id} serves it
    (a passage trimmed to fit the prompt is a prefix of the document from ``start``)."""
    body = ask(server.client, LLAMA_QUESTION)
    assert body["sources"]
    for source in body["sources"]:
        resp = server.client.get(f"/api/documents/{source['doc_id']}")
        assert resp.status_code == 200
        doc = resp.json()
        assert doc["document"]["title"] == source["title"]
        assert doc["document"]["source"] == source["source"]
        text = doc["text"]
        if source["text"] != text[source["start"] : source["end"]]:
            trimmed = source["text"].removesuffix(" …")
            assert text[source["start"] :].startswith(trimmed), (
                f"source {source['number']} is not a span of {source['doc_id']}"
            )


# --- streaming --------------------------------------------------------------------------
def test_stream_sends_sources_tokens_citations_then_done(server: Server) -> None:
    with server.client.stream(
        "POST", "/api/ask/stream", json={"question": LLAMA_QUESTION, "top_k": TOP_K}
    ) as resp:
        assert resp.status_code == 200
        assert resp.headers["content-type"].startswith("text/event-stream")
        events = read_sse(resp)

    kinds = [kind for kind, _ in events]
    assert kinds[0] == "sources"
    assert kinds[-2:] == ["citations", "done"]
    assert set(kinds[1:-2]) == {"token"}, kinds

    sources = events[0][1]
    assert sources and all(set(s) >= SOURCE_FIELDS for s in sources)
    tokens = "".join(data["text"] for kind, data in events if kind == "token")
    assert tokens.strip()

    citations = events[-2][1]
    assert isinstance(citations["answer"], str) and citations["answer"].strip()
    assert isinstance(citations["citations"], list)
    assert "timings" not in citations

    done = events[-1][1]
    assert done["model"] == tiny_model_path().name
    assert done["timings"]["prompt_tokens"] > 0
    assert done["timings"]["total_ms"] > 0


# --- documents: upload, retrieve, delete ------------------------------------------------
def test_uploaded_document_is_listed(server: Server, zorblax: dict[str, Any]) -> None:
    assert zorblax["title"] == "Zorblax Reactor"
    assert zorblax["duplicate"] is False
    assert zorblax["n_chunks"] >= 1
    assert zorblax["doc_id"] in document_ids(server.client)


def test_uploaded_document_is_retrieved_without_restart(
    server: Server, zorblax: dict[str, Any]
) -> None:
    body = ask(server.client, ZORBLAX_QUESTION)
    assert zorblax["doc_id"] in {s["doc_id"] for s in body["sources"]}


def test_uploading_the_same_content_again_is_a_duplicate(
    server: Server, zorblax: dict[str, Any]
) -> None:
    before = document_ids(server.client)
    resp = upload(server.client, "zorblax-copy.md", ZORBLAX_MD.encode())
    assert resp.status_code in (200, 201), resp.text
    again = resp.json()
    assert again["duplicate"] is True
    assert again["doc_id"] == zorblax["doc_id"]
    assert document_ids(server.client) == before


def test_deleted_document_is_no_longer_listed(server: Server, zorblax: dict[str, Any]) -> None:
    resp = server.client.delete(f"/api/documents/{zorblax['doc_id']}")
    assert resp.status_code == 200
    assert resp.json()["doc_id"] == zorblax["doc_id"]
    assert zorblax["doc_id"] not in document_ids(server.client)


def test_deleted_document_is_no_longer_retrieved(server: Server, zorblax: dict[str, Any]) -> None:
    assert server.client.delete(f"/api/documents/{zorblax['doc_id']}").status_code == 200
    body = ask(server.client, ZORBLAX_QUESTION)
    assert zorblax["doc_id"] not in {s["doc_id"] for s in body["sources"]}
    assert zorblax["doc_id"] not in {c["doc_id"] for c in body["citations"]}


def test_deleting_a_document_twice_is_not_found(server: Server, zorblax: dict[str, Any]) -> None:
    assert server.client.delete(f"/api/documents/{zorblax['doc_id']}").status_code == 200
    resp = server.client.delete(f"/api/documents/{zorblax['doc_id']}")
    assert_error(resp, 404, "document_not_found")


# --- bad input --------------------------------------------------------------------------
ASK = {"method": "POST", "url": "/api/ask"}
UPLOAD = {"method": "POST", "url": "/api/documents"}

# (httpx request arguments, expected status), one per kind of bad request
BAD_REQUESTS = {
    "empty question": ({**ASK, "json": {"question": ""}}, 422),
    "whitespace-only question": ({**ASK, "json": {"question": " \t\n  "}}, 422),
    "100 kB question": ({**ASK, "json": {"question": "y" * 100_000}}, 422),
    "top_k 0": ({**ASK, "json": {"question": "Llama?", "top_k": 0}}, 422),
    "top_k 51": ({**ASK, "json": {"question": "Llama?", "top_k": 51}}, 422),
    "top_k not a number": ({**ASK, "json": {"question": "Llama?", "top_k": "abc"}}, 422),
    "malformed JSON": (
        {
            **ASK,
            "content": b'{"question": "Llama?"',
            "headers": {"content-type": "application/json"},
        },
        422,
    ),
    "missing question": ({**ASK, "json": {"top_k": 2}}, 422),
    "text/plain body": (
        {**ASK, "content": b"How many tokens?", "headers": {"content-type": "text/plain"}},
        422,
    ),
    "stream with blank question": (
        {"method": "POST", "url": "/api/ask/stream", "json": {"question": "   "}},
        422,
    ),
    "GET unknown document": ({"method": "GET", "url": "/api/documents/nope123"}, 404),
    "DELETE unknown document": ({"method": "DELETE", "url": "/api/documents/nope123"}, 404),
    "upload .exe": (
        {**UPLOAD, "files": {"file": ("tool.exe", b"MZ\x90\x00\x03", "application/x-msdownload")}},
        415,
    ),
    "upload .zip": (
        {**UPLOAD, "files": {"file": ("notes.zip", b"PK\x03\x04\x14\x00", "application/zip")}},
        415,
    ),
    "binary renamed .txt": (
        {
            **UPLOAD,
            "files": {
                "file": ("photo.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00", "text/plain")
            },
        },
        415,
    ),
    "unknown route": ({"method": "GET", "url": "/api/nothing-here"}, 404),
    "GET on a POST route": ({"method": "GET", "url": "/api/ask"}, 405),
    "GET on the stream route": ({"method": "GET", "url": "/api/ask/stream"}, 405),
}


@pytest.mark.parametrize("name", list(BAD_REQUESTS))
def test_bad_request_gets_the_error_shape(server: Server, name: str) -> None:
    request, status = BAD_REQUESTS[name]
    assert_error(server.client.request(**request), status)


def test_question_one_char_over_the_limit_is_refused_and_names_the_limit(server: Server) -> None:
    too_long = "x" * (server.settings.max_question_chars + 1)
    resp = server.client.post("/api/ask", json={"question": too_long})
    err = assert_error(resp, 422, "bad_input")
    assert str(server.settings.max_question_chars) in err["message"]


def test_question_at_the_limit_passes_the_character_check(server: Server) -> None:
    """The limit is inclusive: exactly max_question_chars characters is not refused for its
    length in characters. With the tiny model's 2048-token window the prompt then does not
    fit, and that refusal (from the later check) names RAGQA_N_CTX, not the char limit."""
    limit = server.settings.max_question_chars
    at_limit = ("llama " * limit)[:limit]
    resp = server.client.post("/api/ask", json={"question": at_limit, "top_k": 1})
    # past the character check, it meets the next one: it does not fit 2048 tokens
    err = assert_error(resp, 422, "bad_input")
    assert "RAGQA_MAX_QUESTION_CHARS" not in err["message"], err
    assert "RAGQA_N_CTX" in err["message"] and "context window" in err["message"], err


def test_empty_upload_is_refused(server: Server) -> None:
    resp = upload(server.client, "empty.md", b"")
    err = assert_error(resp, EMPTY_UPLOAD_STATUS, EMPTY_UPLOAD_CODE)
    assert "empty.md" in err["message"], err


def test_malformed_json_says_so(server: Server) -> None:
    resp = server.client.post(
        "/api/ask", content=b"{not json", headers={"content-type": "application/json"}
    )
    err = assert_error(resp, 422, "bad_input")
    assert "JSON" in err["message"]


def test_bad_requests_leave_the_index_unchanged(server: Server) -> None:
    before_ids = document_ids(server.client)
    before_chunks = server.client.get("/health").json()["chunks"]
    too_long = "x" * (server.settings.max_question_chars + 1)
    for request, _ in BAD_REQUESTS.values():
        server.client.request(**request)
    server.client.post("/api/ask", json={"question": too_long})
    upload(server.client, "empty.md", b"")
    assert document_ids(server.client) == before_ids
    assert server.client.get("/health").json()["chunks"] == before_chunks


# --- API key ----------------------------------------------------------------------------
def test_upload_without_the_api_key_is_unauthorized(keyed_server: httpx.Client) -> None:
    resp = upload(keyed_server, "zorblax.md", ZORBLAX_MD.encode())
    assert_error(resp, 401, "unauthorized")
    assert resp.headers["www-authenticate"] == "Bearer"


def test_upload_with_a_wrong_api_key_is_unauthorized(keyed_server: httpx.Client) -> None:
    resp = upload(
        keyed_server, "zorblax.md", ZORBLAX_MD.encode(), headers={"Authorization": "Bearer nope"}
    )
    assert_error(resp, 401, "unauthorized")


def test_delete_without_the_api_key_is_unauthorized(keyed_server: httpx.Client) -> None:
    doc_id = document_ids(keyed_server)[0]
    assert_error(keyed_server.delete(f"/api/documents/{doc_id}"), 401, "unauthorized")
    assert doc_id in document_ids(keyed_server)


def test_upload_with_the_api_key_is_created(keyed_server: httpx.Client) -> None:
    resp = upload(
        keyed_server, "zorblax.md", ZORBLAX_MD.encode(), headers={"Authorization": "Bearer s3cret"}
    )
    assert resp.status_code == 201, resp.text
    assert resp.json()["doc_id"] in document_ids(keyed_server)


def test_reads_need_no_api_key_by_default(keyed_server: httpx.Client) -> None:
    resp = keyed_server.get("/api/documents")
    assert resp.status_code == 200
    doc_id = resp.json()["documents"][0]["doc_id"]
    assert keyed_server.get(f"/api/documents/{doc_id}").status_code == 200
    assert keyed_server.get("/health").status_code == 200


# --- busy -------------------------------------------------------------------------------
def test_stream_is_refused_with_retry_after_while_the_model_is_busy(server: Server) -> None:
    """With no queue allowed and a generation in progress, a new question is refused at
    once with 503, code "busy" and a Retry-After header, instead of waiting."""
    gate = server.service.gate
    saved = gate.max_queue
    gate.max_queue = 0
    try:
        with gate.slot(timeout=1):  # stands in for a generation in progress
            resp = server.client.post(
                "/api/ask/stream", json={"question": LLAMA_QUESTION, "top_k": TOP_K}
            )
    finally:
        gate.max_queue = saved
    assert_error(resp, 503, "busy")
    assert int(resp.headers["retry-after"]) >= 1
    assert gate.active == 0
