"""What a new user waits for: the README's first command on a fresh clone, cold caches.

Clones this checkout's HEAD into a new folder, then runs ``scripts/run.sh`` there with an
empty pip cache and an empty llama.cpp wheel cache (``PIP_CACHE_DIR``,
``RAGQA_WHEEL_CACHE``), so pip downloads everything and llama.cpp is compiled from source,
exactly as on a machine that never saw ragqa. It records:

- ``ready_s``: from starting ``scripts/run.sh`` to the first 200 from ``/health`` (venv,
  packages, the llama.cpp compile, the 1.1 GB model assembled from its wheels, the model
  check, the demo corpus ingested, the service up);
- ``compile_s``: the llama.cpp compile alone (from its build log appearing to its wheel
  appearing in the wheel cache);
- ``second_ready_s``: ``scripts/run.sh`` started again on the set-up clone;
- ``answer``: one question through ``POST /api/ask`` with its server-side timings;
- ``demo_ingest``: ``ragqa ingest data/articles`` into a new index, then again with
  nothing changed (wall time, ragqa's own time, peak RSS, from ``wait4``);
- ``cold_ask``: ``ragqa ask --json`` in a new process (load everything, answer once).

Run it on a quiet machine: it takes 10-15 minutes on 2 cores and about 3 GB of disk.

    .venv/bin/python bench/fresh_setup.py --work /tmp/ragqa-fresh
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench._common import RESULTS, ROOT, machine  # noqa: E402

QUESTION = "How many tokens was Llama 2 trained on?"


def _serve(
    clone: Path, port: int, env: dict[str, str], log: Path, seen: dict[str, float]
) -> tuple[Any, float]:
    """Start scripts/run.sh; return the process and the seconds until /health says 200.
    ``seen`` gets when the llama.cpp build log appeared and when its wheel did."""
    wheels = Path(env["RAGQA_WHEEL_CACHE"])
    start = time.perf_counter()
    proc = subprocess.Popen(
        ["scripts/run.sh", "--port", str(port)],
        cwd=clone,
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    while True:
        if proc.poll() is not None:
            raise SystemExit(f"scripts/run.sh exited with {proc.returncode}: see {log}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                return proc, time.perf_counter() - start
        except httpx.HTTPError:
            pass
        now = time.perf_counter() - start
        if "compile_start" not in seen and any(wheels.glob("build-*.log")):
            seen["compile_start"] = now
        if "compile_end" not in seen and any(wheels.glob("llama-cpp-python-*/*.whl")):
            seen["compile_end"] = now
        time.sleep(0.5)


def _timed(clone: Path, env: dict[str, str], *args: str) -> tuple[dict[str, Any], str]:
    """``.venv/bin/ragqa ARGS`` in the clone: wall s, peak RSS and CPU s, and its output."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [".venv/bin/ragqa", *args], cwd=clone, env=env, stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"ragqa {' '.join(args)} failed:\n{out[-2000:]}")
    return {
        "wall_s": round(time.perf_counter() - t0, 2),
        "peak_rss_bytes": usage.ru_maxrss * 1024,
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 2),
    }, out


def _stop(proc: Any) -> None:
    os.killpg(proc.pid, signal.SIGTERM)
    proc.wait(timeout=60)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--work", type=Path, default=Path("/tmp/ragqa-fresh"))
    ap.add_argument("--port", type=int, default=8765)
    ap.add_argument("--out", type=Path, default=RESULTS / "fresh-setup.json")
    args = ap.parse_args()
    measured_on = machine()
    shutil.rmtree(args.work, ignore_errors=True)
    clone, caches = args.work / "ragqa", args.work / "caches"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
    env = {
        **os.environ,
        "PIP_CACHE_DIR": str(caches / "pip"),
        "RAGQA_WHEEL_CACHE": str(caches / "wheels"),
    }
    env.pop("VIRTUAL_ENV", None)
    seen: dict[str, float] = {}
    proc, ready_s = _serve(clone, args.port, env, args.work / "first-run.log", seen)
    _stop(proc)
    compile_s = seen.get("compile_end", 0.0) - seen.get("compile_start", 0.0)
    proc, second_s = _serve(clone, args.port, env, args.work / "second-run.log", {})
    try:
        t0 = time.perf_counter()
        reply = httpx.post(
            f"http://127.0.0.1:{args.port}/api/ask", json={"question": QUESTION}, timeout=300
        )
        wall = time.perf_counter() - t0
        reply.raise_for_status()
        body = reply.json()
    finally:
        _stop(proc)
    env["HF_HUB_OFFLINE"] = "1"
    index = str(args.work / "demo-index")
    ingest, out = _timed(clone, env, "ingest", "data/articles", "--index", index)
    ingest["summary"] = out.strip().splitlines()[-1]
    again, out = _timed(clone, env, "ingest", "data/articles", "--index", index)
    again["summary"] = out.strip().splitlines()[-1]
    cold, out = _timed(clone, env, "ask", QUESTION, "--index", index, "--json")
    cold["timings"] = json.loads(out[out.index("{") :])["timings"]
    result = {
        "benchmark": "fresh_setup",
        "command": "bench/fresh_setup.py " + " ".join(sys.argv[1:]),
        "machine": measured_on,
        "ready_s": round(ready_s, 1),
        "compile_s": round(compile_s, 1),
        "second_ready_s": round(second_s, 2),
        "answer": {
            "question": QUESTION,
            "wall_s": round(wall, 2),
            "text": body["answer"],
            "timings": body["timings"],
        },
        "demo_ingest": {"new_index": ingest, "nothing_changed": again},
        "cold_ask": cold,
    }
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: v for k, v in result.items() if k != "machine"}, indent=2))


if __name__ == "__main__":
    main()
