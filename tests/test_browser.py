"""The chat page in a real browser: Debian's Chromium driven by Playwright, against a real
uvicorn serving a copy of the demo index with the tiny GGUF model.

Needs Playwright (a dev dependency) and /usr/bin/chromium (``apt-get install chromium``).
Without Chromium the module is skipped, saying why; that skip is not allowlisted, so under
RAGQA_STRICT_SKIPS=1 (scripts/test.sh, CI) it fails the run. Never ``playwright install``.
A failing test leaves a screenshot in test-artifacts/.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from app.embedding import Embedder
from app.llm.local import LocalLLM
from app.services.documents import DocumentService
from tests.support import ROOT, Server, running_on_copy

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    pytest.skip(
        "browser tests need Debian's Chromium at /usr/bin/chromium (apt-get install -y chromium)",
        allow_module_level=True,
    )
from playwright import sync_api  # noqa: E402  (a dev dependency: missing, it is an error)

ARTIFACTS = ROOT / "test-artifacts"
# answered by the tiny model, which cites nothing here, so ragqa attaches the passage
QUESTION = "What is the context length of Llama 2?"
ANSWER_TIMEOUT = 150_000  # ms; the tiny model answers in seconds, a loaded CI box is slower


class SlowLLM:
    """The real tiny model, slowed down per token, so a test can stop it mid-answer."""

    def __init__(self, inner: LocalLLM, delay: float) -> None:
        self.inner = inner
        self.delay = delay
        self.name = inner.name
        self.n_ctx = inner.n_ctx

    def render(self, messages: Any) -> Any:
        return self.inner.render(messages)

    def count_tokens(self, text: str) -> int:
        return self.inner.count_tokens(text)

    def stream(self, prompt: Any, **kw: Any) -> Iterator[str]:
        for piece in self.inner.stream(prompt, **kw):
            time.sleep(self.delay)
            yield piece


@pytest.fixture(scope="module")
def live(
    tmp_path_factory: pytest.TempPathFactory,
    demo_index: Path,
    embedder: Embedder,
    tiny_llm: LocalLLM,
) -> Iterator[Server]:
    with running_on_copy(
        tmp_path_factory.mktemp("browser"),
        demo_index,
        embedder,
        tiny_llm,
        top_k=4,
        max_tokens=48,  # the tiny model's answer passes the checks
    ) as s:
        yield s


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield b
        b.close()


@pytest.fixture
def page(request: pytest.FixtureRequest, browser: Any, live: Server) -> Iterator[Any]:
    """A fresh page on the app; a screenshot on failure; uncaught JS errors fail the test."""
    context = browser.new_context(base_url=live.url, viewport={"width": 1280, "height": 860})
    pg = context.new_page()
    pg.set_default_timeout(20_000)
    js_errors: list[str] = []
    pg.on("pageerror", lambda exc: js_errors.append(str(exc)))
    pg.on("console", lambda msg: _csp_violation(msg, js_errors))
    pg.goto("/")
    pg.wait_for_selector(".doc", state="attached")  # the documents list has loaded
    yield pg
    failed = any(
        getattr(request.node, f"rep_{when}", None) is not None
        and getattr(request.node, f"rep_{when}").failed
        for when in ("setup", "call")
    )
    if failed:
        ARTIFACTS.mkdir(exist_ok=True)
        try:
            pg.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
        except Exception as exc:  # the page may be gone; the failure itself matters more
            print(f"no screenshot: {exc}")
    context.close()
    if not failed:
        assert not js_errors, f"JavaScript errors on the page: {js_errors}"


def _csp_violation(msg: Any, errors: list[str]) -> None:
    if msg.type == "error" and "Content Security Policy" in msg.text:
        errors.append(msg.text)


# --- helpers ------------------------------------------------------------------------------


def ask(page: Any, question: str) -> None:
    page.fill("#question", question)
    page.press("#question", "Enter")


def wait_answer(page: Any, n: int = 1, timeout: int = ANSWER_TIMEOUT) -> Any:
    """The n-th answer (1-based) once it reached a final state."""
    answer = page.locator(".answer").nth(n - 1)
    page.wait_for_function(
        """n => {
            const a = document.querySelectorAll('.answer')[n - 1];
            return a && ['done', 'error', 'stopped', 'cancelled'].includes(a.dataset.status);
        }""",
        arg=n,
        timeout=timeout,
    )
    return answer


def assert_ready(page: Any) -> None:
    """Back to the resting state: Ask shown, Stop hidden, no spinner anywhere."""
    assert page.locator("#send").is_visible()
    assert page.locator("#stop").is_hidden()
    assert page.locator(".spinner").count() == 0
    assert page.get_attribute("body", "data-busy") == "false"


def wait_until(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def upload(page: Any, path: Path) -> None:
    page.set_input_files("#upload-file", str(path))
    page.click("#upload-btn")
    page.wait_for_function(
        "() => /^(Added|\\\"|Could not)/.test(document.getElementById('docs-message').textContent)"
    )
    message = page.text_content("#docs-message") or ""
    assert message.startswith("Added"), message


def doc_id_titled(documents: DocumentService, title: str) -> str:
    return next(d.doc_id for d in documents.list_documents() if d.title == title)


# --- tests -------------------------------------------------------------------------------------


def test_answer_streams_with_citation_chips_sources_and_timings(page: Any) -> None:
    page.wait_for_function("() => document.getElementById('status').textContent.includes('Ready')")
    assert page.evaluate("document.activeElement.id") == "question"  # type right away
    ask(page, QUESTION)
    assert page.locator("#stop").is_visible()  # Stop replaces Ask while answering
    assert page.locator("#send").is_hidden()
    # tokens appear while the answer is still being generated
    page.wait_for_selector(
        '.answer[data-status="streaming"] .answer-text:not(:empty)', timeout=ANSWER_TIMEOUT
    )
    answer = wait_answer(page)
    assert answer.get_attribute("data-status") == "done"
    assert (answer.locator(".answer-text").text_content() or "").strip()

    chips = answer.locator(".chip")
    assert chips.count() >= 1
    assert re.fullmatch(r"\d+", chips.first.text_content() or "")
    sources = answer.locator(".source")
    assert sources.count() >= 1
    assert answer.locator(".source.cited").count() >= 1
    tags = answer.locator(".source .tag").all_text_contents()
    assert tags and set(tags) <= {"cited", "attached by similarity"}
    scores = answer.locator(".source .score").all_text_contents()
    assert scores and all(re.fullmatch(r"-?\d\.\d\d", s) for s in scores)
    timings = answer.locator(".timings").text_content() or ""
    assert "retrieval" in timings and "first token" in timings and "total" in timings

    page.wait_for_function(
        "() => document.getElementById('announcer').textContent.startsWith('Answer')"
    )
    assert_ready(page)


def test_citation_chip_opens_the_passage_highlighted_in_context(page: Any, live: Server) -> None:
    ask(page, QUESTION)
    answer = wait_answer(page)
    chip = answer.locator(".chip").first
    chip.focus()  # keyboard only: focus the chip and press Enter
    page.keyboard.press("Enter")
    page.wait_for_selector("#viewer[open] #viewer-body mark")

    title = page.text_content("#viewer-title") or ""
    doc_id = doc_id_titled(live.documents, title)
    _, text = live.documents.get_document(doc_id)
    mark = page.text_content("#viewer-body mark") or ""
    assert len(mark) > 40 and mark in text
    heading = page.text_content("#viewer-heading") or ""
    assert heading  # the passage's section heading
    body = page.text_content("#viewer-body") or ""
    assert len(body) > len(mark)  # shown with some context around it
    assert (page.text_content("#viewer-kicker") or "").startswith("Source ")

    page.click("#viewer-whole")
    assert page.locator("#viewer-body mark").text_content() == mark
    assert len(page.text_content("#viewer-body") or "") == len(text)  # the whole document
    page.keyboard.press("Escape")
    page.wait_for_selector("#viewer", state="hidden")
    assert page.evaluate("document.activeElement.classList.contains('chip')")  # focus returns


def test_stop_ends_the_answer_and_the_generation(page: Any, live: Server) -> None:
    service = live.service
    original_llm, original_max = service.llm, service.settings.max_tokens
    assert isinstance(original_llm, LocalLLM)
    service.llm = SlowLLM(original_llm, delay=0.15)
    service.settings.max_tokens = 600  # about 90 s of answer unless stopped
    try:
        ask(page, QUESTION)
        page.wait_for_selector(
            '.answer[data-status="streaming"] .answer-text:not(:empty)', timeout=ANSWER_TIMEOUT
        )
        page.click("#stop")
        answer = wait_answer(page, timeout=10_000)
        assert answer.get_attribute("data-status") == "stopped"
        assert "Stopped" in (answer.locator(".notice").text_content() or "")
        assert (answer.locator(".answer-text").text_content() or "").strip()  # partial kept
        assert_ready(page)
        # the server noticed the closed connection and gave the model back
        wait_until(lambda: service.gate.active == 0, 20, "the generation to stop")
    finally:
        service.llm = original_llm
        service.settings.max_tokens = original_max


def test_follow_up_sends_the_conversation_as_history(page: Any) -> None:
    bodies: list[dict[str, Any]] = []
    page.on(
        "request",
        lambda r: bodies.append(r.post_data_json) if r.url.endswith("/api/ask/stream") else None,
    )
    ask(page, QUESTION)
    first = wait_answer(page, 1)
    assert first.get_attribute("data-status") == "done"
    follow_up = "And how many tokens was it trained on?"
    ask(page, follow_up)
    second = wait_answer(page, 2)
    assert second.get_attribute("data-status") == "done"

    assert len(bodies) == 2
    assert bodies[0]["question"] == QUESTION and bodies[0]["history"] == []
    history = bodies[1]["history"]
    assert bodies[1]["question"] == follow_up
    assert [t["role"] for t in history] == ["user", "assistant"]
    assert history[0]["content"] == QUESTION
    assert history[1]["content"].strip() and len(history[1]["content"]) <= 2000
    assert page.locator(".turn").count() == 2
    assert page.locator("#new-chat").is_visible()


def test_uploaded_document_is_answerable_without_reload(
    page: Any, live: Server, tmp_path: Path
) -> None:
    path = tmp_path / "zorblax.txt"
    path.write_text(
        "Zorblax Observatory\n\nThe Zorblax Observatory was built in 2031 on Mount Vexa. "
        "Its main mirror is 12 metres wide, and it studies the atmospheres of exoplanets.\n",
        encoding="utf-8",
    )
    try:
        upload(page, path)
        page.wait_for_selector('.doc-title:text-is("Zorblax Observatory")')
        ask(page, "When was the Zorblax Observatory built, and where?")
        answer = wait_answer(page)
        assert answer.get_attribute("data-status") == "done"
        titles = answer.locator(".source-title").all_text_contents()
        assert "Zorblax Observatory" in titles
    finally:
        for d in live.documents.list_documents():
            if d.title == "Zorblax Observatory":
                live.documents.delete_document(d.doc_id)


def test_delete_document_after_confirming(page: Any, live: Server) -> None:
    info = live.documents.add_document(
        "quokka.md", b"# Quokka notes\n\nQuokkas live on Rottnest Island and eat grasses.\n"
    )
    try:
        page.reload()
        row = page.locator(".doc", has=page.locator('.doc-title:text-is("Quokka notes")'))
        row.wait_for()
        page.once("dialog", lambda d: d.dismiss())  # "Cancel" keeps it
        row.get_by_role("button", name="Delete Quokka notes").click()
        page.wait_for_timeout(300)
        assert row.count() == 1
        assert any(d.doc_id == info.doc_id for d in live.documents.list_documents())

        page.once("dialog", lambda d: d.accept())
        row.get_by_role("button", name="Delete Quokka notes").click()
        row.wait_for(state="detached")
        assert page.text_content("#docs-message") == 'Deleted "Quokka notes".'
        assert all(d.doc_id != info.doc_id for d in live.documents.list_documents())
    finally:
        if any(d.doc_id == info.doc_id for d in live.documents.list_documents()):
            live.documents.delete_document(info.doc_id)


def test_busy_server_counts_down_retries_and_recovers(page: Any, live: Server) -> None:
    gate = live.service.gate
    saved_queue, saved_avg = gate.max_queue, gate._avg_seconds
    entered, release = threading.Event(), threading.Event()

    def hold() -> None:
        with gate.slot(timeout=30):
            entered.set()
            release.wait(90)

    holder = threading.Thread(target=hold, daemon=True)
    statuses: list[tuple[int, str | None]] = []
    page.on(
        "response",
        lambda r: (
            statuses.append((r.status, r.headers.get("retry-after")))
            if r.url.endswith("/api/ask/stream")
            else None
        ),
    )
    gate.max_queue = 0  # nobody may wait: every question while one runs gets 503
    gate._avg_seconds = 3.0  # Retry-After: 3 s
    holder.start()
    try:
        assert entered.wait(10)
        # cancel the wait
        ask(page, QUESTION)
        busy = page.locator(".answer").nth(0).locator(".notice.busy")
        busy.wait_for()
        assert "busy" in (busy.text_content() or "")
        busy.get_by_role("button", name="Cancel").click()
        first = wait_answer(page, 1, timeout=5_000)
        assert first.get_attribute("data-status") == "cancelled"
        assert_ready(page)

        # wait, watch the countdown, then free the model: the page retries by itself
        ask(page, QUESTION)
        busy = page.locator(".answer").nth(1).locator(".notice.busy")
        busy.wait_for()
        text = busy.text_content() or ""
        assert re.search(r"Trying again in \d+ seconds?", text), text
        seconds = int(re.search(r"in (\d+)", text).group(1))  # type: ignore[union-attr]
        page.wait_for_function(
            """s => {
                const n = document.querySelectorAll('.answer')[1].querySelector('.notice.busy');
                const m = n && /in (\\d+)/.exec(n.textContent);
                return m && Number(m[1]) < s;
            }""",
            arg=seconds,
            timeout=5_000,
        )
        assert page.locator("#stop").is_visible()  # still "working": Stop cancels the wait
        assert (503, "3") in statuses
        gate.max_queue = saved_queue
        release.set()
        holder.join(10)
        second = wait_answer(page, 2)
        assert second.get_attribute("data-status") == "done"
        assert second.locator(".notice.busy").count() == 0
        assert (second.locator(".answer-text").text_content() or "").strip()
        assert statuses[-1][0] == 200
        assert_ready(page)
    finally:
        release.set()
        holder.join(10)
        gate.max_queue, gate._avg_seconds = saved_queue, saved_avg


def test_errors_are_explained(page: Any) -> None:
    # Shift+Enter is a new line, not a question
    page.fill("#question", "first line")
    page.press("#question", "Shift+Enter")
    page.type("#question", "second line")
    assert page.input_value("#question") == "first line\nsecond line"
    assert page.locator(".turn").count() == 0

    def server_error(route: Any) -> None:
        route.fulfill(
            status=500,
            content_type="application/json",
            body=json.dumps(
                {"error": {"code": "internal", "message": "internal error (Boom)", "status": 500}}
            ),
        )

    page.route("**/api/ask/stream", server_error)
    ask(page, "anything")
    answer = wait_answer(page, 1, timeout=10_000)
    assert answer.get_attribute("data-status") == "error"
    assert "internal error (Boom)" in (answer.locator(".notice.error").text_content() or "")
    assert_ready(page)

    page.unroute("**/api/ask/stream")
    page.route("**/api/ask/stream", lambda route: route.abort("connectionrefused"))
    ask(page, "anything")
    answer = wait_answer(page, 2, timeout=10_000)
    assert "Could not reach the server" in (answer.locator(".notice.error").text_content() or "")
    assert_ready(page)

    page.unroute("**/api/ask/stream")
    failing_stream = (
        "event: sources\r\ndata: []\r\n\r\n"
        'event: error\r\ndata: {"error": {"code": "timeout", "message": "waited 300 s for '
        'the model without getting a turn; try again", "status": 504}}\r\n\r\n'
    )
    page.route(
        "**/api/ask/stream",
        lambda route: route.fulfill(
            status=200, content_type="text/event-stream", body=failing_stream
        ),
    )
    ask(page, "anything")
    answer = wait_answer(page, 3, timeout=10_000)
    assert "without getting a turn" in (answer.locator(".notice.error").text_content() or "")
    assert_ready(page)


def test_html_in_documents_and_answers_is_shown_as_text(
    page: Any, live: Server, tmp_path: Path
) -> None:
    # starts like a title (a capital), so the loader takes the line as the title
    payload = "Markup <script>window.__pwned=1</script><b>bold</b>"
    path = tmp_path / "payload.txt"
    path.write_text(payload + "\n\nA note about markup in documents.\n", encoding="utf-8")
    try:
        upload(page, path)
        title = page.locator(".doc-title", has_text="<script>")
        title.wait_for()
        assert title.text_content() == payload  # the title is the first line, literally
        title.click()
        page.wait_for_function(
            "() => document.getElementById('viewer-body').textContent.includes('<b>')"
        )
        assert payload in (page.text_content("#viewer-body") or "")
        assert page.locator("#viewer-body script, #viewer-body b").count() == 0
        assert page.locator("b:text-is('bold')").count() == 0
        assert page.evaluate("typeof window.__pwned") == "undefined"
        page.keyboard.press("Escape")

        # model text too: a canned stream whose answer and source carry markup
        source = {
            "number": 1, "doc_id": "x", "title": "<i>T</i>", "source": "x.txt",
            "chunk_id": "c", "start": 0, "end": 4, "heading": None, "text": "<u>x</u>",
            "score": 0.5, "cited": True, "inferred": False,
        }  # fmt: skip
        evil = '<img src=x onerror="window.__pwned=2">'
        events = [
            ("sources", [source]),
            ("token", {"text": evil}),
            ("citations", {
                "question": "q", "answer": f"{evil} [1]", "answerable": True,
                "reason": "answered", "citations": [source], "sources": [source], "model": "m",
            }),
            ("done", {"timings": {"retrieval_ms": 1, "ttft_ms": 2, "total_ms": 3}, "model": "m",
                      "answerable": True, "reason": "answered"}),
        ]  # fmt: skip
        body = "".join(f"event: {e}\r\ndata: {json.dumps(d)}\r\n\r\n" for e, d in events)
        page.route(
            "**/api/ask/stream",
            lambda route: route.fulfill(status=200, content_type="text/event-stream", body=body),
        )
        ask(page, "<b>question</b>")
        answer = wait_answer(page, 1, timeout=10_000)
        assert answer.get_attribute("data-status") == "done"
        assert evil in (answer.locator(".answer-text").text_content() or "")
        assert answer.locator(".chip").count() == 1  # the [1] marker became a chip
        assert page.locator(".turn .question p").text_content() == "<b>question</b>"
        assert page.locator(".conversation img, .conversation i, .conversation b").count() == 0
        page.wait_for_timeout(200)
        assert page.evaluate("typeof window.__pwned") == "undefined"
    finally:
        for d in live.documents.list_documents():
            if d.title == payload:
                live.documents.delete_document(d.doc_id)


def _fulfil_with(body: str) -> Any:
    """A route handler that answers with this event stream."""
    return lambda route: route.fulfill(status=200, content_type="text/event-stream", body=body)


def test_an_answer_given_after_a_doubted_refusal_says_so(page: Any) -> None:
    source = {
        "number": 1, "doc_id": "x", "title": "Ferries", "source": "x.txt", "chunk_id": "c",
        "start": 0, "end": 4, "heading": None, "text": "The ferry sails at six.",
        "score": 0.5, "cited": True, "inferred": False,
    }  # fmt: skip

    def canned(probability: float | None) -> str:
        answer = {
            "question": "q", "answer": "It sails at six [1].", "answerable": True,
            "reason": "answered", "citations": [source], "sources": [source], "model": "m",
            "refusal_probability": probability, "certainty": probability and 0.97,
        }  # fmt: skip
        events = [
            ("sources", [source]),
            ("token", {"text": "According to [1], it sails at six."}),
            ("citations", answer),
            ("done", {"timings": {"retrieval_ms": 1, "ttft_ms": 2, "total_ms": 3}, "model": "m",
                      "answerable": True, "reason": "answered"}),
        ]  # fmt: skip
        return "".join(f"event: {e}\r\ndata: {json.dumps(d)}\r\n\r\n" for e, d in events)

    for n, probability in enumerate([None, 0.43], start=1):
        page.route("**/api/ask/stream", _fulfil_with(canned(probability)))
        ask(page, "When does the ferry sail?")
        answer = wait_answer(page, n, timeout=10_000)
        line = answer.locator(".reconsidered-line")
        sure = answer.locator(".certainty-line")  # the model's certainty of its claim
        if probability is None:
            assert line.count() == 0 and sure.count() == 0
        else:
            assert "first leaned towards saying the sources do not answer" in line.inner_text()
            assert "0.43" in line.inner_text()
            assert "certainty of its claim: 0.97" in sure.inner_text()
        page.unroute("**/api/ask/stream")


def test_phone_layout_has_a_documents_drawer_and_no_sideways_scroll(
    browser: Any, live: Server
) -> None:
    context = browser.new_context(
        base_url=live.url, viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
    )
    try:
        pg = context.new_page()
        pg.goto("/")
        pg.wait_for_selector(".doc", state="attached")
        assert pg.evaluate("document.documentElement.scrollWidth") <= 390
        assert pg.locator("#docs-panel").is_hidden()
        assert pg.locator("#question").is_visible() and pg.locator("#send").is_visible()
        pg.click("#docs-toggle")
        pg.wait_for_selector("#docs-panel.open .doc-title")
        assert pg.get_attribute("#docs-toggle", "aria-expanded") == "true"
        pg.keyboard.press("Escape")
        pg.wait_for_selector("#docs-panel", state="hidden")
        assert pg.evaluate("document.activeElement.id") == "docs-toggle"
    except Exception:
        ARTIFACTS.mkdir(exist_ok=True)
        pg.screenshot(path=str(ARTIFACTS / "test_phone_layout.png"), full_page=True)
        raise
    finally:
        context.close()


def test_ticked_documents_scope_the_question(page: Any, live: Server) -> None:
    """Ticking a document asks within it: the request names it, every source is from it,
    and the note under the question box says so; unticking asks all documents again."""
    docs = live.documents.list_documents()
    other = next(
        d
        for d in docs
        if "trained on 2 trillion" not in live.service.snapshot.documents[d.doc_id].text
    )
    bodies: list[dict[str, Any]] = []
    page.on(
        "request",
        lambda r: (
            bodies.append(json.loads(r.post_data or "{}"))
            if r.url.endswith("/api/ask/stream")
            else None
        ),
    )
    page.locator(f'.doc[data-doc-id="{other.doc_id}"] .doc-scope').check()
    note = page.locator("#scope-note")
    assert note.is_visible() and "1 ticked document" in (note.text_content() or "")
    ask(page, "How many tokens was Llama 2 trained on?")
    answer = wait_answer(page)
    assert bodies and bodies[-1]["documents"] == [other.doc_id]
    titles = answer.locator(".source-title").all_text_contents()
    assert titles and set(titles) == {other.title}
    page.locator(f'.doc[data-doc-id="{other.doc_id}"] .doc-scope').uncheck()
    assert note.is_hidden()
