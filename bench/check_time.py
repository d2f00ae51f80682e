"""How long the stage after generation takes: answer checks and citations.

The answer checks (``not_stated`` and the rest) and the citations run after the model's
last token, so they add to every answer's total time and nothing to its first token.
This times :meth:`app.answer.service.RagService.check_text` (retrieval again, the checks,
the citations) over the model texts a finished eval run recorded, for each version of the
code given (a checkout: today's and, say, a worktree of the previous main), alternating
versions run by run, in a subprocess each so that each imports its own ``app``.

    .venv/bin/python bench/check_time.py docs/eval/dev4-first --index /tmp/idx-dev4 \\
        --version main=/tmp/wt-main --version new=. --out bench/results/check-time.json
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import RESULTS, command_line, load_average, machine, provenance  # noqa: E402

# run inside the version's checkout: prints one JSON list of milliseconds
_TIMER = """
import json, sys, time
sys.path.insert(0, sys.argv[1])
from app.answer.service import RagService
from app.settings import Settings
svc = RagService(Settings(index_dir=sys.argv[3])); svc.open_index()
rows = [json.loads(line) for line in open(sys.argv[2] + "/results.jsonl", encoding="utf-8")]
out = []
for r in rows:
    if r.get("model_text"):
        t = time.perf_counter()
        svc.check_text(r["question"], r["model_text"])
        out.append((time.perf_counter() - t) * 1000)
print(json.dumps(out))
"""


def _time(root: Path, run: Path, index: Path) -> list[float]:
    done = subprocess.run(
        [sys.executable, "-c", _TIMER, str(root.resolve()), str(run.resolve()), str(index)],
        capture_output=True,
        text=True,
        check=True,
        cwd=root,
    )
    times: list[float] = json.loads(done.stdout.strip().splitlines()[-1])
    return times


def _commit(root: Path) -> str:
    done = subprocess.run(
        ["git", "-C", str(root), "rev-parse", "--short=12", "HEAD"], capture_output=True, text=True
    )
    return done.stdout.strip()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run", type=Path, help="an eval run directory with model_text in its rows")
    ap.add_argument("--index", type=Path, required=True, help="the index that run was made on")
    ap.add_argument("--version", action="append", required=True, help="NAME=CHECKOUT")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--out", type=Path, default=RESULTS / "check-time.json")
    args = ap.parse_args()
    versions = dict(v.split("=", 1) for v in args.version)
    times: dict[str, list[float]] = {name: [] for name in versions}
    for _ in range(args.rounds):
        for name, root in versions.items():
            times[name] += _time(Path(root), args.run, args.index)
    summary: dict[str, Any] = {}
    for name, ms in times.items():
        ms.sort()
        summary[name] = {
            "commit": _commit(Path(versions[name])),
            "n": len(ms),
            "p50_ms": round(statistics.median(ms), 2),
            "p95_ms": round(ms[int(0.95 * (len(ms) - 1))], 2),
        }
        print(
            f"{name:8} {summary[name]['commit']}  n={len(ms)}  p50 {summary[name]['p50_ms']} ms"
            f"  p95 {summary[name]['p95_ms']} ms"
        )
    result = {
        **provenance(),
        "command": command_line(),
        "machine": machine(),
        "load_average_at_end": load_average(),
        "run": str(args.run),
        "summary": summary,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
