"""Prefill and decode speed of llama.cpp builds, side by side on this CPU (issue 12).

Each ``--python`` is an interpreter with a llama-cpp-python build installed (for example
the portable build in .venv and a ``-march=native`` build in another venv). The runs
alternate between the builds, so a change in machine load hits both alike.

    python bench/llama_build.py --python .venv/bin/python --python /tmp/native/bin/python \\
        --label portable --label native --runs 5 --out bench/results/llama-build.json

Prefill: a 512-token prompt, one token generated (prompt tokens / time to first token).
Decode: 128 tokens generated after a short prompt, with end-of-text barred.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._common import RESULTS, machine  # noqa: E402

CHILD = r"""
import json, sys, time
sys.path.insert(0, sys.argv[3])
from llama_cpp import Llama
from app.llm.cpu_variant import load_cpu_variant
model, threads = sys.argv[1], int(sys.argv[2])
variant = load_cpu_variant()
llm = Llama(model_path=model, n_ctx=2048, n_threads=threads, n_threads_batch=threads,
            n_batch=512, verbose=False, use_mmap=False)
text = "The harbour records list ferries, bridges and mills by year. " * 60
tokens = llm.tokenize(text.encode())[:512]
t0 = time.perf_counter()
llm.create_completion(tokens, max_tokens=1, temperature=0.0)
prefill = time.perf_counter() - t0
llm.reset()
short = llm.tokenize(b"Write a long story about a river town:")
t0 = time.perf_counter()
out = llm.create_completion(short, max_tokens=129, temperature=0.0,
                            logit_bias={llm.token_eos(): -1e9})
total = time.perf_counter() - t0
n = out["usage"]["completion_tokens"]
# decode rate: tokens after the first over the time after the prompt (short prompt: ~0.2 s)
print(json.dumps({"prefill_tps": len(tokens) / prefill, "decode_tps": (n - 1) / max(1e-9, total - len(short) * prefill / len(tokens)),
                  "prompt_tokens": len(tokens), "decoded": n,
                  "cpu_variant": variant.name if variant else "static build"}))
"""


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--python", action="append", required=True)
    ap.add_argument("--label", action="append")
    ap.add_argument("--model", default="default", help="tiny, default or a GGUF path")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--out", type=Path, default=RESULTS / "llama-build.json")
    args = ap.parse_args()
    labels = args.label or [Path(p).parent.parent.name for p in args.python]
    from app.llm.smoke import resolve

    model = str(resolve(args.model))
    runs: dict[str, list[dict[str, float]]] = {label: [] for label in labels}
    for i in range(args.runs):
        for label, py in zip(labels, args.python, strict=True):
            done = subprocess.run(
                [py, "-c", CHILD, model, str(args.threads), str(ROOT)],
                capture_output=True,
                text=True,
                check=True,
            )
            row = json.loads(done.stdout.strip().splitlines()[-1])
            runs[label].append(row)
            print(
                f"run {i + 1} {label:10} prefill {row['prefill_tps']:6.1f} tok/s  "
                f"decode {row['decode_tps']:5.1f} tok/s",
                flush=True,
            )
    summary = {
        label: {
            "prefill_tps_median": round(statistics.median(r["prefill_tps"] for r in rows), 1),
            "decode_tps_median": round(statistics.median(r["decode_tps"] for r in rows), 1),
        }
        for label, rows in runs.items()
    }
    print(json.dumps(summary, indent=1))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps(
            {
                "benchmark": "llama_build",
                "command": " ".join(["bench/llama_build.py", *sys.argv[1:]]),
                "machine": machine(),
                "model": Path(model).name,
                "threads": args.threads,
                "summary": summary,
                "runs": runs,
            },
            indent=1,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
