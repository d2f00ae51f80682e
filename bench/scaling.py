"""Scaling: throughput and latency of 1 vs N ragqa API workers in front of one llama.cpp
server, beside the in-process baseline.

Every configuration answers the same questions from the evaluation set with the same
model, through real processes on loopback:

* ``in-process``: one ``ragqa serve`` running the GGUF itself (``RAGQA_LLM_BACKEND=local``)
* ``remote xN``: N ``ragqa serve`` processes over one shared index, each with
  ``RAGQA_LLM_BACKEND=openai`` pointing at one ``python -m llama_cpp.server`` (started
  with ``--interrupt_requests False``, so concurrent streams are queued, not cut short,
  and ``--logits_all False``, so it computes the logits ragqa needs and no more)

``--clients`` concurrent clients ask the questions through ``POST /api/ask``; requests go
to the workers round-robin (as a load balancer would). All processes stay up for the whole
run and the configurations take turns, ``--rounds`` times, so a change in the machine's
load hits them alike. Reported per configuration: answers/min, latency percentiles and the
CPU seconds per answer of each process (from /proc), which shows which piece does the work.

    .venv/bin/python bench/scaling.py --tiny --threads 1 --max-tokens 96 --questions 8 \\
        --rounds 2 --out bench/results/scaling-tiny.json
    .venv/bin/python bench/scaling.py --threads 1 --questions 6 --rounds 1 \\
        --out bench/results/scaling-default.json      # the bundled 1.5B model

Prints a table and writes JSON; asserts nothing about speed.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._common import (  # noqa: E402
    build_index,
    command_line,
    free_port,
    load_average,
    load_questions,
    machine,
    percentile,
    ragqa_server,
    table,
    write_json,
)

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and its waited-for children."""
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    # after the ")" field 3 (state) is index 0: utime=14, stime=15, cutime=16, cstime=17
    return sum(int(fields[i]) for i in (11, 12, 13, 14)) / TICKS


@contextmanager
def llama_server(model: Path, n_ctx: int, threads: int, log_dir: Path) -> Iterator[Any]:
    """``python -m llama_cpp.server`` on a free loopback port; yields (base_url, process)."""
    port = free_port()
    cmd = [
        sys.executable, "-m", "app.llm.llama_server", "--model", str(model),
        "--host", "127.0.0.1", "--port", str(port), "--n_ctx", str(n_ctx),
        "--n_threads", str(threads), "--n_threads_batch", str(threads), "--seed", "42",
        "--interrupt_requests", "False", "--logits_all", "False", "--verbose", "False",
    ]  # fmt: skip
    log = (log_dir / f"llama-server-{port}.log").open("wb")
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 300
        while True:
            try:
                if httpx.get(f"{base}/models", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"llama_cpp.server did not start; see {log.name}")
            time.sleep(0.2)
        yield base, proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def drive(
    urls: Sequence[str], questions: Sequence[str], clients: int, top_k: int
) -> dict[str, Any]:
    """``clients`` threads ask every question once, round-robin over ``urls``."""
    lock = threading.Lock()
    todo = list(enumerate(questions))
    results: list[dict[str, Any]] = []

    def client() -> None:
        with httpx.Client(timeout=900) as http:
            while True:
                with lock:
                    if not todo:
                        return
                    i, q = todo.pop(0)
                url = urls[i % len(urls)]
                t0 = time.perf_counter()
                r = http.post(f"{url}/api/ask", json={"question": q, "top_k": top_k})
                latency = time.perf_counter() - t0
                row: dict[str, Any] = {"question": q, "status": r.status_code, "latency_s": latency}
                if r.status_code == 200:
                    body = r.json()
                    row.update(body["timings"])
                    row["answerable"] = body["answerable"]
                    row["answer"] = body["answer"]
                else:
                    row["error"] = r.text[:300]
                with lock:
                    results.append(row)

    t0 = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    ok = [r for r in results if r["status"] == 200]
    lat = [r["latency_s"] for r in ok]
    gen = sum(r.get("generation_ms", 0.0) for r in ok) / 1000
    return {
        "answers": len(ok),
        "errors": len(results) - len(ok),
        "wall_s": round(wall, 2),
        "answers_per_min": round(len(ok) / wall * 60, 2) if wall else 0.0,
        "latency_p50_s": round(percentile(lat, 50), 2),
        "latency_p95_s": round(percentile(lat, 95), 2),
        # as seen by ragqa: with N workers it includes waiting in the engine's queue
        "generation_s_total": round(gen, 2),
        "mean_prompt_tokens": round(sum(r.get("prompt_tokens", 0) for r in ok) / max(1, len(ok))),
        "results": results,
    }


def measure(
    name: str,
    urls: Sequence[str],
    pids: dict[str, int],
    questions: Sequence[str],
    args: argparse.Namespace,
) -> dict[str, Any]:
    """One pass of the questions through ``urls``, with the CPU each process spent."""
    before = {k: cpu_seconds(p) for k, p in pids.items()}
    load_before = load_average()
    print(f"{name}: {len(questions)} questions, {args.clients} clients …", flush=True)
    out = drive(urls, questions, args.clients, args.top_k)
    out["cpu_s"] = {k: round(cpu_seconds(p) - before[k], 1) for k, p in pids.items()}
    out["load_average"] = {"before": load_before, "after": load_average()}
    out["config"] = name
    return out


def summarise(name: str, passes: list[dict[str, Any]]) -> dict[str, Any]:
    ok = [r for p in passes for r in p["results"] if r["status"] == 200]
    lat = [r["latency_s"] for r in ok]
    wall = sum(p["wall_s"] for p in passes)
    cpu: dict[str, float] = {}
    for p in passes:
        for k, v in p["cpu_s"].items():
            cpu[k] = round(cpu.get(k, 0.0) + v, 1)
    return {
        "config": name,
        "passes": len(passes),
        "answers": len(ok),
        "errors": sum(p["errors"] for p in passes),
        "wall_s": round(wall, 1),
        "answers_per_min": round(len(ok) / wall * 60, 2) if wall else 0.0,
        "latency_p50_s": round(percentile(lat, 50), 1),
        "latency_p95_s": round(percentile(lat, 95), 1),
        "completion_tokens": sum(r.get("completion_tokens", 0) for r in ok),
        "cpu_s": cpu,
        "cpu_s_per_answer": {k: round(v / max(1, len(ok)), 2) for k, v in cpu.items()},
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tiny", action="store_true", help="the tiny SmolLM2-135M model")
    parser.add_argument("--model", type=Path, help="a GGUF (default: the bundled model)")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--questions", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=2, help="interleaved passes per config")
    parser.add_argument("--top-k", type=int, default=5)
    parser.add_argument("--max-tokens", type=int, default=None, help="RAGQA_MAX_TOKENS")
    parser.add_argument("--n-ctx", type=int, default=4096)
    parser.add_argument("--threads", type=int, default=None, help="llama.cpp threads")
    parser.add_argument("--no-baseline", action="store_true", help="skip in-process")
    parser.add_argument("--out", type=Path, default=ROOT / "bench/results/scaling.json")
    args = parser.parse_args(argv)
    # a SIGTERM (timeout, Ctrl-C in a pipeline) unwinds the context managers, so the
    # servers this script started are stopped too
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    from app.llm.local import physical_cores
    from app.llm.model_files import resolve_model_path, tiny_model_path
    from app.settings import Settings

    if args.tiny:
        model = tiny_model_path()
    elif args.model:
        model = args.model
    else:
        model = resolve_model_path(Settings(_env_file=None))  # type: ignore[call-arg]
    threads = args.threads or physical_cores()
    info = machine()
    questions = load_questions(args.questions)
    work = Path(tempfile.mkdtemp(prefix="ragqa-scaling-"))
    index_dir = build_index(work / "index")
    common = {
        "RAGQA_MODEL_PATH": str(model),
        "RAGQA_N_CTX": str(args.n_ctx),
        "RAGQA_N_THREADS": str(threads),
        "RAGQA_MAX_QUEUE": str(max(8, args.clients)),
        "RAGQA_REQUEST_TIMEOUT": "3600",
    }
    if args.max_tokens:
        common["RAGQA_MAX_TOKENS"] = str(args.max_tokens)
    passes: dict[str, list[dict[str, Any]]] = {}
    summary: list[dict[str, Any]] = []

    def save() -> None:  # after every pass: an interrupted run keeps its figures
        summary[:] = [summarise(name, runs) for name, runs in passes.items()]
        write_json(
            args.out,
            {
                "command": command_line(),
                "machine": info,
                "model": str(model),
                "llama_threads": threads,
                "clients": args.clients,
                "top_k": args.top_k,
                "max_tokens": args.max_tokens,
                "n_ctx": args.n_ctx,
                "questions": questions,
                "summary": summary,
                "passes": passes,
            },
        )

    with ExitStack() as stack:
        # every process is up for the whole run and the configurations take turns
        # (A B C A B C …), so a change in the machine's load hits them all alike
        configs: list[tuple[str, list[str], dict[str, int]]] = []
        if not args.no_baseline:
            env = {**common, "RAGQA_LLM_BACKEND": "local"}
            local = stack.enter_context(ragqa_server(index_dir, env=env, log_dir=work))
            configs.append(("in-process", [local.base], {"api worker (in-process)": local.pid}))
        base, engine = stack.enter_context(llama_server(model, args.n_ctx, threads, work))
        env = {**common, "RAGQA_LLM_BACKEND": "openai", "RAGQA_LLM_BASE_URL": base}
        remote = [
            stack.enter_context(ragqa_server(index_dir, env=env, log_dir=work))
            for _ in range(max(args.workers))
        ]
        for n in args.workers:
            pids = {f"api worker {i + 1}": s.pid for i, s in enumerate(remote[:n])}
            pids["llama.cpp server"] = engine.pid
            configs.append((f"remote x{n}", [s.base for s in remote[:n]], pids))
        with httpx.Client(timeout=3600) as http:  # one untimed answer per worker
            for url in dict.fromkeys(u for _, urls, _ in configs for u in urls):
                http.post(f"{url}/api/ask", json={"question": questions[0], "top_k": args.top_k})
        for r in range(args.rounds):
            for name, urls, pids in configs:
                result = measure(name, urls, pids, questions, args)
                result["round"] = r + 1
                passes.setdefault(name, []).append(result)
                save()

    rows = [
        [
            s["config"],
            s["answers"],
            s["errors"],
            s["wall_s"],
            s["answers_per_min"],
            s["latency_p50_s"],
            s["latency_p95_s"],
            ", ".join(f"{k} {v}" for k, v in s["cpu_s_per_answer"].items()),
        ]
        for s in summary
    ]
    print()
    print(
        f"model {model.name}, {threads} llama.cpp threads, {args.clients} clients, "
        f"top_k {args.top_k}, {args.rounds} interleaved rounds, "
        f"load average at start {info['load_average_at_start']}"
    )
    print(
        table(
            ["config", "answers", "errors", "wall s", "answers/min", "p50 s", "p95 s",
             "CPU s per answer"],
            rows,
        )
    )  # fmt: skip
    return 0 if all(s["errors"] == 0 for s in summary) else 1


if __name__ == "__main__":
    raise SystemExit(main())
