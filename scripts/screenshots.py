#!/usr/bin/env python
"""Screenshots of the chat page with a real answer, for the docs.

Ingests the demo articles into a temporary index, serves ragqa on a free local port, asks
one question in Debian's Chromium (driven by Playwright) and saves the page at 1280 px and
390 px wide, light and dark, plus the passage viewer:

    .venv/bin/python scripts/screenshots.py            # the bundled default model
    .venv/bin/python scripts/screenshots.py --tiny     # the tiny test model (fast, weaker)

Needs ``pip install playwright`` and /usr/bin/chromium (``apt-get install chromium``);
never ``playwright install``.
"""

from __future__ import annotations

import argparse
import os
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def serve(app: object) -> tuple[str, object, threading.Thread]:
    import uvicorn

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))  # type: ignore[arg-type]
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the server did not start")
        time.sleep(0.05)
    return f"http://127.0.0.1:{port}", server, thread


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tiny", action="store_true", help="use the tiny test model")
    parser.add_argument("--question", default="How many tokens was Llama 2 trained on?")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    args = parser.parse_args()

    if not Path(CHROMIUM).exists():
        print(f"{CHROMIUM} is missing: apt-get install -y chromium", file=sys.stderr)
        return 2
    from playwright.sync_api import sync_playwright

    from app.answer.service import RagService
    from app.api.app import create_app, warm_up
    from app.llm import load_llm
    from app.llm.model_files import tiny_model_path
    from app.settings import Settings

    tmp = Path(tempfile.mkdtemp(prefix="ragqa-shots-"))
    values: dict[str, object] = {"index_dir": tmp / "index"}
    if args.tiny:
        values.update(model_path=tiny_model_path(), n_ctx=2048, max_tokens=64)
    settings = Settings(_env_file=None, **values)  # type: ignore[call-arg]
    service = RagService(settings)
    service.ingest([ROOT / "data" / "articles"])
    print("loading the model…", flush=True)
    service.llm = load_llm(settings)
    warm_up(service)
    url, server, thread = serve(create_app(settings, service))
    args.out.mkdir(parents=True, exist_ok=True)

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for name, viewport, scale in (
            ("desktop", {"width": 1280, "height": 820}, 1),
            ("phone", {"width": 390, "height": 844}, 2),
        ):
            context = browser.new_context(
                viewport=viewport,
                device_scale_factor=scale,
                is_mobile=name == "phone",
                has_touch=name == "phone",
                color_scheme="light",
            )
            page = context.new_page()
            page.goto(url)
            page.wait_for_selector(".doc", state="attached")
            page.fill("#question", args.question)
            page.keyboard.press("Enter")
            print(f"{name}: waiting for the answer…", flush=True)
            page.wait_for_selector('.answer[data-status="done"]', timeout=300_000)
            page.evaluate("document.activeElement && document.activeElement.blur()")
            page.evaluate("window.scrollTo(0, 0)")
            for scheme in ("light", "dark"):
                page.emulate_media(color_scheme=scheme)
                page.wait_for_timeout(200)
                target = args.out / f"{name}-{scheme}.png"
                page.screenshot(path=str(target))
                print(f"saved {target}")
            if name == "desktop":
                page.emulate_media(color_scheme="light")
                page.locator(".chip").first.click()
                page.wait_for_selector("#viewer-body mark")
                page.wait_for_timeout(200)
                target = args.out / "desktop-passage.png"
                page.screenshot(path=str(target))
                print(f"saved {target}")
            context.close()
        browser.close()
    server.should_exit = True  # type: ignore[attr-defined]
    thread.join(timeout=10)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
