"""Load test: N concurrent clients ask questions through /api/ask and /api/ask/stream.

Loopback only, bounded in time (``--duration``) and count (``--max-requests``). Each client
asks a question from the evaluation set, waits for the whole answer, and asks the next one;
a 503 is honoured by sleeping its Retry-After (capped by ``--max-backoff``). Every response
is checked:

* ``ok``: 200 with a complete answer: ``/api/ask`` returns a non-empty ``answer`` with its
  ``sources``, ``citations`` and ``timings``; the stream sends ``sources``, ``citations``
  with a non-empty answer, then ``done``, and no ``error``
* ``busy``: the deliberate 503 (code ``busy``, with Retry-After), before or inside a stream
* ``client_error``: any other 4xx; ``server_error``: any other 5xx, before or inside a stream
* ``transport``: connection refused, reset or closed mid-response
* ``hung``: no complete response within ``--timeout`` seconds
* ``incomplete``: a 200 without a complete answer (no ``done`` event, empty answer, bad JSON)

It reports counts, latency percentiles per endpoint (and time to first token of streams),
the server's health afterwards and, with ``--serve``, the server's RSS at start, peak and
end (from /proc); ``--rounds N`` repeats the load on the same server and records the RSS
after each round, which tells growth that levels off (allocator arenas, caches) from a
leak. With ``--serve`` the JSON also holds ``rss.timeline``: every ``--sample-every``
seconds the RSS, the requests completed so far, the thread count and the RSS by kind of
mapping (main malloc heap, glibc thread arenas, other anonymous, file-backed), and the RSS
slope over the load and its last ``--slope-window`` seconds; ``bench/plot_rss.py`` draws
it. ``--memhook`` loads ``bench/memhook/sitecustomize.py`` into the server, which reports
glibc's malloc figures (bytes in use, free inside each arena) and tracemalloc's growth of
Python allocations after the warm-up and each round, then the RSS after ``malloc_trim(0)``.
It exits 1 if any server_error, transport error, hung or incomplete response was seen, or
if the server is not healthy and idle afterwards.

    # the 2-minute form, on its own server with the tiny model
    .venv/bin/python bench/load.py --serve --tiny --clients 32 --duration 120 \
        --out bench/results/load-tiny-32x120.json
    # a 10-minute soak with the allocator figures (docs/RELIABILITY.md), then its plot
    .venv/bin/python bench/load.py --serve --tiny --clients 8 --duration 120 --rounds 5 \
        --env RAGQA_N_THREADS=1 --memhook --memhook-frames 0 \
        --out bench/results/soak-tiny.json
    .venv/bin/python bench/plot_rss.py bench/results/soak-tiny.json:default --out soak.png
    # against a server that is already running
    .venv/bin/python bench/load.py --url http://127.0.0.1:8000 --clients 8 --duration 30
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import json
import os
import random
import signal
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._common import (  # noqa: E402
    QUESTIONS,
    RssSampler,
    command_line,
    load_questions,
    machine,
    memory_map,
    percentile,
    proc_status,
    ragqa_server,
    table,
    write_json,
)

OUTCOMES = (
    "ok",
    "busy",
    "client_error",
    "server_error",
    "transport",
    "hung",
    "incomplete",
)
FAILURES = ("server_error", "transport", "hung", "incomplete")
ENDPOINTS = {"ask": "/api/ask", "stream": "/api/ask/stream"}


class NotLoopback(ValueError):
    pass


def check_loopback(url: str) -> str:
    """The base URL without a trailing slash; refuses anything but a loopback host."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.scheme not in ("http", "https") or not host:
        raise NotLoopback(f"{url!r} is not an http(s) URL")
    if host != "localhost":
        try:
            loopback = ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = False
        if not loopback:
            raise NotLoopback(
                f"{host} is not a loopback address: this load test only runs against "
                "127.0.0.1, ::1 or localhost"
            )
    return url.rstrip("/")


@dataclass
class Outcome:
    endpoint: str
    outcome: str
    status: int | None
    seconds: float
    ttft: float | None = None
    retry_after: float | None = None
    detail: str = ""


def _sse_events(lines: Sequence[str]) -> list[tuple[str, str]]:
    events: list[tuple[str, str]] = []
    name, data = "message", []  # type: tuple[str, list[str]]
    for line in [*lines, ""]:
        if not line:
            if data:
                events.append((name, "\n".join(data)))
            name, data = "message", []
        elif line.startswith(":"):
            continue
        elif line.startswith("event:"):
            name = line[len("event:") :].strip()
        elif line.startswith("data:"):
            data.append(line[len("data:") :].removeprefix(" "))
    return events


def _classify_error(status: int, body: Any) -> tuple[str, str]:
    err = body.get("error") if isinstance(body, dict) else None
    code = err.get("code") if isinstance(err, dict) else None
    detail = f"{status} {code}: {err.get('message', '')[:200]}" if err else f"{status}"
    if status == 503 and code == "busy":
        return "busy", detail
    if 400 <= status < 500:
        return "client_error", detail
    return "server_error", detail


def check_answer(body: Any) -> str:
    """Empty when ``body`` is a complete /api/ask answer; else what is missing."""
    if not isinstance(body, dict):
        return "body is not a JSON object"
    answer = body.get("answer")
    if not isinstance(answer, str) or not answer.strip():
        return "empty answer"
    for key, kind in (("sources", list), ("citations", list), ("timings", dict)):
        if not isinstance(body.get(key), kind):
            return f"no {key}"
    if not isinstance(body.get("answerable"), bool):
        return "no answerable flag"
    return ""


async def ask_once(client: httpx.AsyncClient, question: str) -> Outcome:
    t0 = time.perf_counter()
    resp = await client.post(ENDPOINTS["ask"], json={"question": question})
    seconds = time.perf_counter() - t0
    try:
        body = resp.json()
    except ValueError:
        body = None
    if resp.status_code != 200:
        outcome, detail = _classify_error(resp.status_code, body)
        retry = resp.headers.get("retry-after")
        return Outcome(
            "ask",
            outcome,
            resp.status_code,
            seconds,
            retry_after=float(retry) if retry and retry.isdigit() else None,
            detail=detail,
        )
    missing = check_answer(body)
    return Outcome("ask", "incomplete" if missing else "ok", 200, seconds, detail=missing)


async def stream_once(client: httpx.AsyncClient, question: str) -> Outcome:
    t0 = time.perf_counter()
    ttft: float | None = None
    lines: list[str] = []
    async with client.stream("POST", ENDPOINTS["stream"], json={"question": question}) as resp:
        if resp.status_code != 200:
            raw = await resp.aread()
            try:
                body = json.loads(raw)
            except ValueError:
                body = None
            outcome, detail = _classify_error(resp.status_code, body)
            retry = resp.headers.get("retry-after")
            return Outcome(
                "stream",
                outcome,
                resp.status_code,
                time.perf_counter() - t0,
                retry_after=float(retry) if retry and retry.isdigit() else None,
                detail=detail,
            )
        async for line in resp.aiter_lines():
            if ttft is None and line.startswith("event: token"):
                ttft = time.perf_counter() - t0
            lines.append(line)
    seconds = time.perf_counter() - t0
    events = _sse_events(lines)
    names = [n for n, _ in events]
    for name, data in events:
        if name == "error":
            try:
                body = json.loads(data)
                status = int(body["error"]["status"])
            except (ValueError, KeyError, TypeError):
                return Outcome("stream", "incomplete", 200, seconds, detail=f"bad error: {data}")
            outcome, detail = _classify_error(status, body)
            return Outcome("stream", outcome, 200, seconds, ttft, detail=f"in stream: {detail}")
    if not names or names[0] != "sources" or names[-1] != "done" or "citations" not in names:
        return Outcome("stream", "incomplete", 200, seconds, ttft, detail=f"events {names[:3]}…")
    try:
        answer = json.loads(dict(events)["citations"]).get("answer", "")
    except ValueError:
        answer = ""
    if not isinstance(answer, str) or not answer.strip():
        return Outcome("stream", "incomplete", 200, seconds, ttft, detail="empty answer")
    return Outcome("stream", "ok", 200, seconds, ttft)


@dataclass
class LoadReport:
    url: str
    clients: int
    duration: float
    stream_ratio: float
    wall_seconds: float = 0.0
    outcomes: list[Outcome] = field(default_factory=list)
    health_status: int | None = None
    health: dict[str, Any] = field(default_factory=dict)

    def count(self, outcome: str, endpoint: str | None = None) -> int:
        return sum(
            1
            for o in self.outcomes
            if o.outcome == outcome and (endpoint is None or o.endpoint == endpoint)
        )

    @property
    def healthy_after(self) -> bool:
        return (
            self.health_status == 200
            and self.health.get("status") == "ok"
            and self.health.get("generating") == 0
            and self.health.get("queue_waiting") == 0
        )

    @property
    def failures(self) -> int:
        return sum(self.count(k) for k in FAILURES)

    @property
    def passed(self) -> bool:
        return self.failures == 0 and self.healthy_after

    def summary(self) -> dict[str, Any]:
        per_endpoint: dict[str, Any] = {}
        for ep in ENDPOINTS:
            done = [o for o in self.outcomes if o.endpoint == ep]
            ok = [o.seconds for o in done if o.outcome == "ok"]
            ttft = [o.ttft for o in done if o.outcome == "ok" and o.ttft is not None]
            per_endpoint[ep] = {
                "requests": len(done),
                **{k: self.count(k, ep) for k in OUTCOMES},
                "latency_ok_s": {
                    f"p{p}": round(percentile(ok, p), 3) if ok else None for p in (50, 95, 99)
                },
                "ttft_ok_s": {
                    f"p{p}": round(percentile(ttft, p), 3) if ttft else None for p in (50, 95, 99)
                },
            }
        statuses = Counter(str(o.status) for o in self.outcomes)
        examples: dict[str, list[str]] = {}
        for o in self.outcomes:
            if o.outcome != "ok" and o.detail and len(examples.setdefault(o.outcome, [])) < 5:
                examples[o.outcome].append(f"{o.endpoint}: {o.detail}")
        return {
            "url": self.url,
            "clients": self.clients,
            "duration_s": self.duration,
            "stream_ratio": self.stream_ratio,
            "wall_s": round(self.wall_seconds, 2),
            "requests": len(self.outcomes),
            **{k: self.count(k) for k in OUTCOMES},
            "http_statuses": dict(sorted(statuses.items())),
            # a 503 sent as an ``error`` event after the stream began: a 200 without an answer
            "busy_in_stream": sum(
                1 for o in self.outcomes if o.outcome == "busy" and o.status == 200
            ),
            "answers_per_minute": round(
                60 * self.count("ok") / self.wall_seconds if self.wall_seconds else 0.0, 1
            ),
            "endpoints": per_endpoint,
            "health_after": {"status_code": self.health_status, **self.health},
            "healthy_after": self.healthy_after,
            "examples": examples,
            "passed": self.passed,
        }


async def run_load(
    url: str,
    questions: Sequence[str],
    *,
    clients: int = 32,
    duration: float = 120.0,
    max_requests: int | None = None,
    stream_ratio: float = 0.5,
    timeout: float = 300.0,
    max_backoff: float = 10.0,
    seed: int = 0,
    progress: Counter[str] | None = None,
) -> LoadReport:
    """Drive ``clients`` concurrent clients for ``duration`` seconds (or ``max_requests``
    requests in all). Requests in flight at the end are waited for, up to ``timeout``.
    ``progress``, if given, counts every outcome as it comes (across calls)."""
    base = check_loopback(url)
    if not questions:
        raise ValueError("no questions to ask")
    report = LoadReport(base, clients, duration, stream_ratio)
    started = 0
    end = time.monotonic() + duration
    t0 = time.perf_counter()
    limits = httpx.Limits(max_connections=clients + 4, max_keepalive_connections=clients)
    # per-read timeouts are generous; the whole request is bounded by ``timeout`` below
    http_timeout = httpx.Timeout(timeout, connect=10.0)
    async with httpx.AsyncClient(base_url=base, timeout=http_timeout, limits=limits) as client:

        async def worker(n: int) -> None:
            nonlocal started
            rng = random.Random(seed * 1000 + n)
            while time.monotonic() < end and (max_requests is None or started < max_requests):
                started += 1
                question = questions[rng.randrange(len(questions))]
                endpoint = "stream" if rng.random() < stream_ratio else "ask"
                call = stream_once if endpoint == "stream" else ask_once
                t_req = time.perf_counter()
                try:
                    outcome = await asyncio.wait_for(call(client, question), timeout)
                except TimeoutError:
                    outcome = Outcome(
                        endpoint,
                        "hung",
                        None,
                        time.perf_counter() - t_req,
                        detail=f"no complete response in {timeout:.0f} s",
                    )
                except httpx.TransportError as exc:
                    outcome = Outcome(
                        endpoint,
                        "transport",
                        None,
                        time.perf_counter() - t_req,
                        detail=f"{type(exc).__name__}: {exc}",
                    )
                report.outcomes.append(outcome)
                if progress is not None:
                    progress[outcome.outcome] += 1
                if outcome.outcome == "busy":
                    wait = min(outcome.retry_after or 1.0, max_backoff)
                    await asyncio.sleep(wait * rng.uniform(0.5, 1.0))
                elif outcome.outcome in ("transport", "server_error"):
                    await asyncio.sleep(0.5)

        await asyncio.gather(*(worker(i) for i in range(clients)))
        report.wall_seconds = time.perf_counter() - t0
        try:
            resp = await client.get("/health", timeout=10)
            report.health_status = resp.status_code
            report.health = resp.json()
        except (httpx.HTTPError, ValueError) as exc:
            report.health = {"error": f"{type(exc).__name__}: {exc}"}
    return report


def print_report(summary: dict[str, Any], rss: dict[str, Any] | None) -> None:
    rows = []
    for ep, s in summary["endpoints"].items():
        lat, ttft = s["latency_ok_s"], s["ttft_ok_s"]
        rows.append(
            [
                ep,
                s["requests"],
                *(s[k] for k in OUTCOMES),
                lat["p50"] if lat["p50"] is not None else "-",
                lat["p95"] if lat["p95"] is not None else "-",
                lat["p99"] if lat["p99"] is not None else "-",
                ttft["p50"] if ttft["p50"] is not None else "-",
            ]
        )
    headers = ["endpoint", "requests", *OUTCOMES, "p50 s", "p95 s", "p99 s", "ttft p50 s"]
    print(table(headers, rows))
    print(
        f"\n{summary['requests']} requests in {summary['wall_s']} s from {summary['clients']} "
        f"clients; {summary['ok']} complete answers ({summary['answers_per_minute']}/min); "
        f"HTTP statuses {summary['http_statuses']}; {summary['busy_in_stream']} of the 503s came "
        "inside a started stream"
    )
    health = summary["health_after"]
    print(
        f"health afterwards: {health.get('status_code')} {health.get('status')}, "
        f"generating {health.get('generating')}, waiting {health.get('queue_waiting')}"
    )
    if rss:
        print(
            "server RSS: ready {ready_mb} MB, after warm-up {start_mb} MB, peak {peak_mb} MB, "
            "end {end_mb} MB ({growth_mb:+} MB over the run)".format(**rss)
        )
        if "slope_last_mb_per_min" in rss:
            print(
                "RSS slope over the load {slope_load_mb_per_min} MB/min, over its last "
                "{slope_window_s:.0f} s {slope_last_mb_per_min} MB/min; sampled peak "
                "{peak_sampled_mb} MB".format(**rss)
            )
    for kind, examples in summary["examples"].items():
        for e in examples:
            print(f"  {kind}: {e}")
    print("PASSED" if summary["passed"] else "FAILED: see the counts above")


def _rss_mb(pid: int) -> float:
    return round(proc_status(pid).get("VmRSS", 0) / 1e6, 1)


def _threads(pid: int) -> int:
    try:
        return len(os.listdir(f"/proc/{pid}/task"))
    except OSError:
        return 0


MEMHOOK = ROOT / "bench" / "memhook"  # its sitecustomize.py: tracemalloc and malloc figures
KINDS = ("heap", "arenas", "anon", "file")  # memory_map()'s kinds of RSS
TIMELINE = (
    "t_s",
    "rss_mb",
    "requests_done",
    "ok",
    "threads",
    *(f"{k}_mb" for k in KINDS),
    "arena_heaps",
)


def slope_mb_per_min(points: Sequence[tuple[float, float]]) -> float | None:
    """Least-squares slope of (seconds, MB) points, in MB per minute."""
    if len(points) < 2 or points[-1][0] - points[0][0] <= 0:
        return None
    import numpy as np

    t, mb = np.asarray(points, dtype=float).T
    return round(float(np.polyfit(t / 60, mb, 1)[0]), 3)


class ServerMemory:
    """The memory of a ``--serve`` server over the whole run.

    Every ``interval`` seconds: RSS, the requests completed so far, the thread count and RSS
    by kind of mapping (``memory_map``). At each phase (``mark``): the same, and with
    ``hook_dir`` (``--memhook``) a dump of the server's tracemalloc and glibc malloc figures.
    Times are seconds since the server was spawned."""

    def __init__(
        self, pid: int, t0: float, interval: float, progress: Counter[str], hook_dir: Path | None
    ) -> None:
        self.pid = pid
        self.progress = progress
        self.hook_dir = hook_dir
        self.sampler = RssSampler(pid, interval, probe=self._probe, t0=t0)
        self.marks: list[dict[str, Any]] = []
        self.dumps: list[dict[str, Any]] = []

    def _probe(self) -> tuple[int, int, int, dict[str, int]]:
        done = sum(self.progress.values())  # keys are all there: no resize while summing
        return done, self.progress["ok"], _threads(self.pid), memory_map(self.pid)

    def _row(self, t: float, rss: int, probed: tuple[int, int, int, dict[str, int]]) -> list[Any]:
        done, ok, threads, kinds = probed
        mb = [round(kinds.get(k, 0) / 1e6, 1) for k in KINDS]
        return [round(t, 1), round(rss / 1e6, 1), done, ok, threads, *mb, kinds.get("arena_heaps")]

    def mark(self, event: str, dump: bool = True, trim: bool = False) -> float:
        """Record a phase; with the memhook, then dump (after malloc_trim(0) with ``trim``)."""
        rss = proc_status(self.pid).get("VmRSS", 0)
        row = self._row(self.sampler.elapsed(), rss, self._probe())
        self.marks.append({"event": event, **dict(zip(TIMELINE, row, strict=True))})
        if self.hook_dir is not None and dump:
            d = self._dump(trim)
            self.dumps.append({"event": event, **d})
            info, mb = d["mallinfo2"], 1e6
            print(
                f"{event}: malloc in use {info['uordblks'] / mb:.1f} MB, free inside "
                f"{len(d['arenas'])} arenas {info['fordblks'] / mb:.1f} MB, mmap'd "
                f"{info['hblkhd'] / mb:.1f} MB; RSS {d['rss']['VmRSS'] / mb:.1f} MB"
                + (
                    f" (before malloc_trim {d['rss_before_trim']['VmRSS'] / mb:.1f})"
                    if trim
                    else ""
                )
                + (
                    f"; Python objects {d['tracemalloc']['python_bytes'] / mb:.1f} MB"
                    if "tracemalloc" in d
                    else ""
                ),
                flush=True,
            )
        return round(rss / 1e6, 1)

    def _dump(self, trim: bool, timeout: float = 600.0) -> dict[str, Any]:
        assert self.hook_dir is not None
        path = self.hook_dir / f"dump-{len(self.dumps)}.json"
        os.kill(self.pid, signal.SIGUSR2 if trim else signal.SIGUSR1)
        deadline = time.monotonic() + timeout
        while not path.exists():
            if time.monotonic() > deadline:
                raise TimeoutError(f"no memhook dump {path} after {timeout:.0f} s")
            time.sleep(0.2)
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        return data

    def timeline(self) -> list[list[Any]]:
        samples = list(zip(self.sampler.samples, self.sampler.probed, strict=False))
        return [self._row(t, rss, probed) for (t, rss), probed in samples]

    def trend(self, since: float, window: float) -> dict[str, Any]:
        """RSS slopes over the load (samples after ``since``) and over its last ``window``
        seconds, and the peak sampled RSS over the load."""
        load = [(t, rss / 1e6) for t, rss in self.sampler.samples if t >= since]
        if not load:
            return {}
        last = [(t, mb) for t, mb in load if t >= load[-1][0] - window]
        return {
            "slope_load_mb_per_min": slope_mb_per_min(load),
            "slope_last_mb_per_min": slope_mb_per_min(last),
            "slope_window_s": window,
            "peak_sampled_mb": round(max(mb for _, mb in load), 1),
        }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--url", help="base URL of a running ragqa (loopback only)")
    where.add_argument(
        "--serve", action="store_true", help="start `ragqa serve` on a free loopback port"
    )
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--duration", type=float, default=120.0, help="seconds of load")
    parser.add_argument("--max-requests", type=int, default=None, help="stop after this many")
    parser.add_argument("--stream-ratio", type=float, default=0.5, help="share of streams")
    parser.add_argument("--questions", type=Path, default=QUESTIONS, help="question file")
    parser.add_argument(
        "--timeout", type=float, default=300.0, help="seconds before a request counts as hung"
    )
    parser.add_argument(
        "--max-backoff", type=float, default=10.0, help="cap on the Retry-After honoured"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--tiny", action="store_true", help="--serve with the tiny SmolLM2-135M model"
    )
    parser.add_argument(
        "--index", type=Path, help="--serve over this index (default: a fresh one in a temp dir)"
    )
    parser.add_argument(
        "--env", action="append", default=[], metavar="KEY=VALUE", help="--serve environment"
    )
    parser.add_argument(
        "--settle", type=float, default=5.0, help="seconds after the load before the end RSS"
    )
    parser.add_argument(
        "--rounds", type=int, default=1, help="repeat the load on the same server (RSS trend)"
    )
    parser.add_argument(
        "--sample-every", type=float, default=2.0, help="--serve: seconds between RSS samples"
    )
    parser.add_argument(
        "--slope-window", type=float, default=300.0, help="RSS slope over the last N seconds"
    )
    parser.add_argument(
        "--memhook",
        action="store_true",
        help="--serve with bench/memhook (tracemalloc and glibc malloc figures at each phase)",
    )
    parser.add_argument(
        "--memhook-frames", type=int, default=1, help="tracemalloc frames (0: tracemalloc off)"
    )
    parser.add_argument("--out", type=Path, help="write the figures as JSON here")
    args = parser.parse_args(argv)

    questions = load_questions(10**6, args.questions, answerable_only=False)
    kwargs: dict[str, Any] = {
        "clients": args.clients,
        "duration": args.duration,
        "max_requests": args.max_requests,
        "stream_ratio": args.stream_ratio,
        "timeout": args.timeout,
        "max_backoff": args.max_backoff,
        "seed": args.seed,
    }
    info: dict[str, Any] = {"command": command_line(), "machine": machine()}
    rss: dict[str, Any] | None = None
    reports: list[LoadReport] = []
    if args.url:
        try:
            check_loopback(args.url)
        except NotLoopback as exc:
            parser.error(str(exc))
        for _ in range(args.rounds):
            reports.append(asyncio.run(run_load(args.url, questions, **kwargs)))
    else:
        env = dict(e.split("=", 1) for e in args.env)
        if args.tiny:
            from app.llm.model_files import tiny_model_path

            env.setdefault("RAGQA_MODEL_PATH", str(tiny_model_path()))
        with tempfile.TemporaryDirectory(prefix="ragqa-load-") as tmp:
            index = args.index or Path(tmp) / "index"  # a fresh one: the server ingests first
            print(f"starting ragqa serve over {index} with {env or 'the default settings'}…")
            hook_dir = Path(tmp) / "memhook" if args.memhook else None
            if hook_dir is not None:
                hook_dir.mkdir()
                env["PYTHONPATH"] = os.pathsep.join(
                    p for p in (str(MEMHOOK), env.get("PYTHONPATH")) if p
                )
                env["RAGQA_MEMHOOK_DIR"] = str(hook_dir)
                env.setdefault("RAGQA_MEMHOOK_FRAMES", str(args.memhook_frames))
            with ragqa_server(index, env=env, log_dir=Path(tmp)) as server:
                progress: Counter[str] = Counter(dict.fromkeys(OUTCOMES, 0))
                memory = ServerMemory(
                    server.pid, server.started, args.sample_every, progress, hook_dir
                )
                hwm_ready = round(proc_status(server.pid).get("VmHWM", 0) / 1e6, 1)
                with memory.sampler as sampler:
                    rss_ready = memory.mark("ready", dump=False)
                    with httpx.Client(base_url=server.base, timeout=args.timeout) as warm:
                        warm.post("/api/ask", json={"question": questions[0]}).raise_for_status()
                    rss_start = memory.mark("warm-up")
                    load_from = sampler.elapsed()
                    print(f"server ready at {server.base} (pid {server.pid}); {rss_ready} MB RSS")
                    rss_ends: list[float] = []
                    for n in range(args.rounds):
                        reports.append(
                            asyncio.run(
                                run_load(server.base, questions, progress=progress, **kwargs)
                            )
                        )
                        time.sleep(args.settle)
                        rss_ends.append(memory.mark(f"round {n + 1}"))
                        if args.rounds > 1:
                            print(f"round {n + 1}: RSS {rss_ends[-1]} MB after {args.settle} s")
                    if hook_dir is not None:
                        memory.mark("malloc_trim(0)", trim=True)
                rss = {
                    "ready_mb": rss_ready,
                    "start_mb": rss_start,
                    "peak_mb": round(max(sampler.peak / 1e6, *rss_ends), 1),
                    "hwm_at_ready_mb": hwm_ready,  # the ingest at start-up may set the peak
                    "end_mb": rss_ends[-1],
                    "growth_mb": round(rss_ends[-1] - rss_start, 1),
                    "end_of_each_round_mb": rss_ends,
                    "settle_s": args.settle,
                    **memory.trend(load_from, args.slope_window),
                    "marks": memory.marks,
                    "sample_every_s": args.sample_every,
                    "timeline_columns": TIMELINE,
                    "timeline": memory.timeline(),
                }
                if hook_dir is not None:
                    rss["memhook"] = memory.dumps
                info["server_env"] = env
                info["server_log_tail"] = server.log()[-2000:]
    summaries = [r.summary() for r in reports]
    for n, summary in enumerate(summaries):
        if len(summaries) > 1:
            print(f"\n## round {n + 1} of {len(summaries)}")
        print_report(summary, rss if n == len(summaries) - 1 else None)
    passed = all(r.passed for r in reports)
    if len(summaries) > 1:
        print("\nALL ROUNDS PASSED" if passed else "\nFAILED in at least one round")
    if args.out:
        body: dict[str, Any] = {**info, "settings": {**kwargs, "rounds": args.rounds}}
        body.update(summaries[0] if len(summaries) == 1 else {"rounds": summaries})
        write_json(args.out, {**body, "rss": rss, "passed": passed})
    return 0 if passed else 1


if __name__ == "__main__":
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    raise SystemExit(main())
