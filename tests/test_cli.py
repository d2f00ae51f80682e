"""The ``ragqa`` command's errors: one plain line, a non-zero exit, nothing loaded in vain."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def ragqa(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
    )


def test_ingest_of_a_path_that_does_not_exist_fails_and_names_it(tmp_path: Path) -> None:
    done = ragqa("ingest", "/no/such/path", "--index", str(tmp_path / "index"))
    assert done.returncode == 2
    assert "no such file or folder: /no/such/path" in done.stderr
    assert not (tmp_path / "index").exists()


def test_eval_of_a_missing_question_file_is_one_line_not_a_traceback(tmp_path: Path) -> None:
    done = ragqa("eval", str(tmp_path / "missing.jsonl"), "--out", str(tmp_path / "run"))
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert done.stderr.strip() == f"error: no such question file: {tmp_path / 'missing.jsonl'}"


def test_serve_on_a_taken_port_fails_at_once(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        t0 = time.monotonic()
        done = ragqa("serve", "--port", str(port), "--index", str(tmp_path / "index"))
        elapsed = time.monotonic() - t0
    assert done.returncode == 2
    assert f"cannot listen on 127.0.0.1:{port}" in done.stderr
    assert elapsed < 15, "the port must be checked before the embedder and model load"
    assert not (tmp_path / "index").exists(), "nothing may be ingested before the port check"


def test_ingest_prints_no_debug_lines_from_libraries(tmp_path: Path) -> None:
    doc = tmp_path / "note.md"
    doc.write_text("# Ferries\n\nThe harbour ferry runs every 20 minutes in summer.\n")
    done = ragqa("ingest", str(doc), "--index", str(tmp_path / "index"))
    assert done.returncode == 0, done.stderr
    assert "DEBUG" not in done.stderr + done.stdout
