"""The chat page's files: served from "/", self-contained, and written to escape all data.

Fast checks with no browser; tests/test_browser.py drives the page in Chromium.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.api.app import WEB_DIR, create_app
from tests.support import make_settings

pytestmark = pytest.mark.unit  # fast: no model, no server

WEB_FILES = ["index.html", "app.js", "app.css", "favicon.svg"]


@pytest.mark.parametrize("name", WEB_FILES)
def test_the_page_files_exist(name: str) -> None:
    """The chat page ships with the package: deleting a file fails here, never skips."""
    assert (WEB_DIR / name).is_file(), f"app/web/{name} is missing"


@pytest.fixture
def client(tmp_path: Path) -> TestClient:
    # no `with`: the lifespan (which would load a model) does not run; static files need none
    return TestClient(create_app(make_settings(tmp_path)))


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("/", "text/html"),
        ("/index.html", "text/html"),
        ("/app.js", "javascript"),
        ("/app.css", "text/css"),
        ("/favicon.svg", "image/svg+xml"),
    ],
)
def test_page_files_are_served(client: TestClient, path: str, content_type: str) -> None:
    resp = client.get(path)
    assert resp.status_code == 200
    assert content_type in resp.headers["content-type"]


def test_page_references_only_local_files() -> None:
    html = (WEB_DIR / "index.html").read_text(encoding="utf-8")
    refs = re.findall(r'(?:src|href)="([^"#]+)"', html)
    assert refs
    for ref in refs:
        assert "//" not in ref and not ref.startswith("data:"), ref  # no CDN: works offline
        assert (WEB_DIR / ref).is_file(), ref
    assert "Content-Security-Policy" in html and "script-src 'self'" in html


def test_no_network_urls_in_the_page_files() -> None:
    for path in WEB_DIR.iterdir():
        text = path.read_text(encoding="utf-8")
        text = text.replace('xmlns="http://www.w3.org/2000/svg"', "")
        assert not re.search(r"https?://", text), path.name


def test_script_never_parses_data_as_html() -> None:
    js = (WEB_DIR / "app.js").read_text(encoding="utf-8")
    code = re.sub(r"^\s*//.*$", "", js, flags=re.M)  # the rule is stated in a comment
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
        assert sink not in code, sink


def test_unknown_paths_and_api_routes_are_not_swallowed_by_the_page(client: TestClient) -> None:
    resp = client.get("/no-such-page")
    assert resp.status_code == 404
    assert resp.json()["error"]["code"] == "not_found"
    assert client.get("/openapi.json").status_code == 200
