"""Helpers shared by the benchmark scripts: a real ``ragqa serve`` subprocess, RSS sampling,
percentiles, tables and JSON output.

The benchmarks are scripts, not tests: each prints its figures and writes them as JSON
(``--out``). None asserts a timing.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
ARTICLES = ROOT / "data" / "articles"
QUESTIONS = ROOT / "data" / "eval" / "questions.jsonl"

# shared with `ragqa eval` (summary.json), so both record the same provenance
from app.provenance import load_average  # noqa: E402
from app.provenance import machine as machine  # noqa: E402  (re-exported to the scripts)
from app.provenance import provenance as provenance  # noqa: E402


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


def ragqa_command() -> list[str]:
    """``ragqa`` from the same environment as this interpreter."""
    exe = Path(sys.executable).parent / "ragqa"
    return [str(exe)] if exe.is_file() else [sys.executable, "-m", "app.cli"]


def proc_status(pid: int) -> dict[str, int]:
    """VmRSS/VmHWM and friends of a process, in bytes (from /proc/<pid>/status)."""
    out: dict[str, int] = {}
    try:
        with open(f"/proc/{pid}/status", encoding="utf-8") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key in ("VmRSS", "VmHWM", "RssAnon", "RssFile", "VmSize"):
                    out[key] = int(value.split()[0]) * 1024
    except OSError:
        pass
    return out


def self_peak_rss() -> int:
    """Peak RSS of this process so far, in bytes."""
    return proc_status(os.getpid()).get("VmHWM", 0)


class RssSampler:
    """Samples a process's RSS in a thread; ``peak`` is the largest VmHWM/VmRSS seen.

    ``samples`` holds (seconds since ``t0``, VmRSS bytes); with ``probe``, ``probed`` holds
    what it returned at each sample (same order), e.g. the requests completed so far."""

    def __init__(
        self,
        pid: int,
        interval: float = 0.05,
        *,
        probe: Callable[[], Any] | None = None,
        t0: float | None = None,
    ) -> None:
        self.pid = pid
        self.interval = interval
        self.peak = 0
        self.samples: list[tuple[float, int]] = []
        self.probed: list[Any] = []
        self._probe = probe
        self._stop = threading.Event()
        self.t0 = time.perf_counter() if t0 is None else t0
        self._thread = threading.Thread(target=self._run, daemon=True)

    def elapsed(self) -> float:
        return time.perf_counter() - self.t0

    def _run(self) -> None:
        while not self._stop.is_set():
            st = proc_status(self.pid)
            if st:
                self.peak = max(self.peak, st.get("VmHWM", 0), st.get("VmRSS", 0))
                if self._probe is not None:
                    self.probed.append(self._probe())
                self.samples.append((self.elapsed(), st.get("VmRSS", 0)))
            self._stop.wait(self.interval)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


GLIBC_HEAP = 64 << 20  # a glibc thread arena grows in 64 MiB-aligned heaps (HEAP_MAX_SIZE)


def memory_map(pid: int) -> dict[str, int]:
    """A process's RSS by kind of mapping, in bytes, from /proc/<pid>/smaps.

    ``heap``: the main malloc arena (``[heap]``); ``arenas``: glibc's thread arenas (anonymous
    mappings that start on a 64 MiB boundary and, with the reserved ``---p`` part after them,
    span 64 MiB); ``anon``: every other anonymous mapping (malloc's mmap'd blocks, llama.cpp
    and torch buffers, thread stacks); ``file``: file-backed (code, libraries, mapped files).
    ``arena_heaps`` counts the thread-arena heaps. Empty if the process is gone."""
    maps: list[tuple[int, int, str, str, int]] = []  # start, end, perms, path, rss
    try:
        with open(f"/proc/{pid}/smaps", encoding="utf-8") as f:
            for line in f:
                first = line.split(None, 5)
                if "-" in first[0] and len(first) >= 5 and not first[0].endswith(":"):
                    lo, hi = (int(x, 16) for x in first[0].split("-"))
                    path = first[5].strip() if len(first) > 5 else ""
                    maps.append((lo, hi, first[1], path, 0))
                elif first[0] == "Rss:" and maps:
                    lo, hi, perms, path, _ = maps[-1]
                    maps[-1] = (lo, hi, perms, path, int(first[1]) * 1024)
    except OSError:
        return {}
    out = dict.fromkeys(("heap", "arenas", "anon", "file", "arena_heaps"), 0)
    for i, (lo, hi, perms, path, rss) in enumerate(maps):
        if path == "[heap]":
            out["heap"] += rss
        elif path and not path.startswith("["):
            out["file"] += rss
        elif not path and perms.startswith("rw") and lo % GLIBC_HEAP == 0:
            span = hi - lo
            nxt = maps[i + 1] if i + 1 < len(maps) else None
            if nxt and nxt[0] == hi and nxt[2].startswith("---") and not nxt[3]:
                span += nxt[1] - nxt[0]
            if span == GLIBC_HEAP:
                out["arenas"] += rss
                out["arena_heaps"] += 1
            else:
                out["anon"] += rss
        else:
            out["anon"] += rss  # anonymous, [stack], [vvar], …
    return out


@dataclass
class Server:
    """A running ``ragqa serve`` subprocess; its output lines with their arrival times."""

    proc: subprocess.Popen[bytes]
    base: str
    log_path: Path
    started: float  # perf_counter at spawn
    env: dict[str, str] = field(default_factory=dict)
    lines: list[tuple[float, str]] = field(default_factory=list)  # (s since spawn, line)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def log(self) -> str:
        return "\n".join(line for _, line in self.lines)

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        with open(self.log_path, "w", encoding="utf-8") as log:
            for raw in self.proc.stdout:
                line = raw.decode("utf-8", errors="replace").rstrip("\n")
                self.lines.append((time.perf_counter() - self.started, line))
                log.write(line + "\n")
                log.flush()

    def first_line(self, needle: str) -> float | None:
        """Seconds from spawn to the first output line containing ``needle``."""
        return next((t for t, line in self.lines if needle in line), None)


def wait_ready(server: Server, timeout: float = 600.0, interval: float = 0.02) -> float:
    """Poll ``/health`` until 200; return seconds since spawn. Raises if the server dies."""
    import httpx

    deadline = time.monotonic() + timeout
    with httpx.Client(timeout=2.0) as client:
        while time.monotonic() < deadline:
            if server.proc.poll() is not None:
                raise RuntimeError(
                    f"ragqa serve exited with {server.proc.returncode}:\n{server.log()[-3000:]}"
                )
            try:
                r = client.get(f"{server.base}/health")
                if r.status_code == 200:
                    return time.perf_counter() - server.started
                if r.status_code == 503:
                    raise RuntimeError(f"ragqa serve is degraded: {r.text}")
            except httpx.TransportError:
                pass
            time.sleep(interval)
    raise TimeoutError(f"ragqa serve not ready after {timeout} s:\n{server.log()[-3000:]}")


@contextmanager
def ragqa_server(
    index_dir: Path,
    *,
    env: dict[str, str] | None = None,
    log_dir: Path | None = None,
    wait: bool = True,
) -> Iterator[Server]:
    """Spawn ``ragqa serve`` on a free loopback port over an existing index (output unbuffered
    so that line times are when the server printed them)."""
    port = free_port()
    full_env = {**os.environ, **(env or {})}
    full_env.update(
        {
            "RAGQA_INDEX_DIR": str(index_dir),
            "RAGQA_HOST": "127.0.0.1",
            "RAGQA_PORT": str(port),
            "HF_HUB_OFFLINE": "1",
            "TOKENIZERS_PARALLELISM": "false",
            "PYTHONUNBUFFERED": "1",
        }
    )
    # the server runs this checkout's ``app`` (a worktree's too, not the editable install's)
    full_env["PYTHONPATH"] = os.pathsep.join(
        p for p in ((env or {}).get("PYTHONPATH"), str(ROOT), os.environ.get("PYTHONPATH")) if p
    )
    log_dir = log_dir or Path(os.environ.get("TMPDIR", "/tmp"))
    log_path = log_dir / f"ragqa-serve-{port}.log"
    started = time.perf_counter()
    proc = subprocess.Popen(
        [*ragqa_command(), "serve"],
        env=full_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        cwd=ROOT,
        start_new_session=True,
    )
    server = Server(proc, f"http://127.0.0.1:{port}", log_path, started, env or {})
    threading.Thread(target=server._pump, daemon=True).start()
    try:
        if wait:
            wait_ready(server)
        yield server
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def build_index(index_dir: Path, corpus: Path = ARTICLES) -> Path:
    """An index of ``corpus`` in ``index_dir`` (built in-process if it does not exist)."""
    from app.answer.service import RagService
    from app.settings import Settings

    if not (index_dir / "CURRENT").is_file():
        settings = Settings(_env_file=None, index_dir=index_dir)  # type: ignore[call-arg]
        RagService(settings).ingest([corpus])
    return index_dir


def load_questions(n: int, path: Path = QUESTIONS, answerable_only: bool = True) -> list[str]:
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if not line.strip():
                continue
            item = json.loads(line)
            if answerable_only and item.get("type") == "unanswerable":
                continue
            out.append(str(item["question"]))
            if len(out) >= n:
                break
    return out


def percentile(values: Sequence[float], p: float) -> float:
    if not values:
        return float("nan")
    import numpy as np

    return float(np.percentile(np.asarray(values, dtype=float), p))


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A Markdown table (also readable on a terminal)."""

    def fmt(v: Any) -> str:
        if isinstance(v, float):
            return f"{v:,.3f}" if abs(v) < 10 else f"{v:,.1f}"
        return str(v)

    cells = [[fmt(v) for v in r] for r in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(headers)]
    line = "| " + " | ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)) + " |"
    sep = "| " + " | ".join("-" * w for w in widths) + " |"
    body = [
        "| " + " | ".join(c.rjust(w) for c, w in zip(r, widths, strict=True)) + " |" for r in cells
    ]
    return "\n".join([line, sep, *body])


def write_json(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {"measured_at": time.strftime("%Y-%m-%d %H:%M:%S %z"), **data}
    data.setdefault("load_average_at_end", load_average())
    path.write_text(json.dumps(data, indent=1, default=str) + "\n", encoding="utf-8")
    print(f"\nwrote {path}")


def command_line() -> str:
    return " ".join([os.path.relpath(sys.argv[0], ROOT) if sys.argv else "", *sys.argv[1:]]).strip()


def dir_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def clean(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
