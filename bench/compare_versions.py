"""Two versions of ragqa on the same questions in one run, alternating (issue 15).

Each version is a source tree (a git worktree of a commit) that runs in its own worker
process, with the model loaded once; the questions go to both in turn, the order
flipping every question, so a change in machine load hits both alike. Every answer is
scored by *this* tree's evaluator, so both are judged by the same rules.

    git worktree add --detach /tmp/ragqa-main 65504c5
    python bench/compare_versions.py data/eval/questions.jsonl \\
        --version main=/tmp/ragqa-main --version new=. --index index \\
        --out bench/results/compare-dev.json

``--set new:RAGQA_TOP_K=4`` gives one version a setting, so one tree can also run as two.

Printed and saved: tokens per answer, first-token and total p50/p95, answer accuracy,
refusal accuracy, false refusals, passage and sentence citation precision, per version.
Run it on a quiet machine (nothing else on the cores).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.evaluation.dataset import load_questions  # noqa: E402
from app.evaluation.runner import KS, failed_answer, score_item, summarise  # noqa: E402
from bench._common import RESULTS, machine  # noqa: E402

WORKER = r"""
import json, sys
from app.settings import Settings
from app.answer.service import RagService
from app.llm import load_llm
from app.evaluation.runner import InProcessBackend
from app.api.app import warm_up
settings = Settings(index_dir=sys.argv[1])
service = RagService(settings, llm=load_llm(settings))
service.open_index()
warm_up(service)  # the cached prompt prefix a started server has
backend = InProcessBackend(service)
print(json.dumps({"ready": True}), flush=True)
for line in sys.stdin:
    req = json.loads(line)
    try:
        if req["op"] == "ask":
            out = backend.ask(req["q"])
        elif req["op"] == "retrieve":
            out = backend.retrieve(req["q"], req["k"])
        else:
            out = backend.document_text(req["id"])
        print(json.dumps({"ok": out}), flush=True)
    except Exception as exc:
        print(json.dumps({"error": f"{type(exc).__name__}: {exc}"}), flush=True)
"""


class Worker:
    def __init__(
        self, name: str, tree: Path, index: Path, overrides: dict[str, str] | None = None
    ) -> None:
        self.name = name
        env = {**os.environ, "PYTHONPATH": str(tree), "HF_HUB_OFFLINE": "1", **(overrides or {})}
        env["TOKENIZERS_PARALLELISM"] = "false"
        self.proc = subprocess.Popen(
            [sys.executable, "-c", WORKER, str(index)],
            cwd=tree,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self._call_raw()  # wait until loaded
        self.docs: dict[str, str] = {}

    def _call_raw(self, req: dict[str, Any] | None = None) -> dict[str, Any]:
        assert self.proc.stdin and self.proc.stdout
        if req is not None:
            self.proc.stdin.write(json.dumps(req) + "\n")
            self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"{self.name}: the worker died")
        reply: dict[str, Any] = json.loads(line)
        return reply

    def call(self, **req: Any) -> Any:
        reply = self._call_raw(req)
        if "error" in reply:
            raise RuntimeError(reply["error"])
        return reply["ok"]

    def document_text(self, doc_id: str) -> str:
        if doc_id not in self.docs:
            self.docs[doc_id] = self.call(op="doc", id=doc_id)
        return self.docs[doc_id]

    def close(self) -> None:
        if self.proc.stdin:
            self.proc.stdin.close()
        self.proc.wait(timeout=60)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("questions", type=Path)
    ap.add_argument("--version", action="append", required=True, help="NAME=SOURCE_TREE")
    ap.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NAME:VAR=VALUE",
        help="an environment variable for one version's worker (a setting such as "
        "RAGQA_TOP_K=4), so one tree can run as two versions",
    )
    ap.add_argument(
        "--index", type=Path, required=True, help="index folder (both versions read it)"
    )
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--out", type=Path, default=RESULTS / "compare-versions.json")
    args = ap.parse_args()
    measured_on = machine()  # the checkout the workers import, not the one at the end
    items = load_questions(args.questions)[: args.limit]
    versions = [v.split("=", 1) for v in args.version]
    overrides: dict[str, dict[str, str]] = {}
    for spec in args.set:
        name, assignment = spec.split(":", 1)
        var, value = assignment.split("=", 1)
        overrides.setdefault(name, {})[var] = value
    # a version may read its own index (RAGQA_INDEX_DIR in --set): one its own code built
    workers = [
        Worker(
            name,
            Path(tree).resolve(),
            Path(overrides.get(name, {}).get("RAGQA_INDEX_DIR", args.index)).resolve(),
            overrides.get(name),
        )
        for name, tree in versions
    ]
    rows: dict[str, list[dict[str, Any]]] = {w.name: [] for w in workers}
    started = time.time()
    for n, item in enumerate(items):
        order = workers if n % 2 == 0 else workers[::-1]
        for w in order:
            try:
                answer = w.call(op="ask", q=item.question)
            except RuntimeError as exc:
                answer = failed_answer(exc)
            retrieved = w.call(op="retrieve", q=item.question, k=max(KS)) if item.answerable else []
            row = score_item(item, answer, retrieved, w.document_text)
            if answer.get("error"):
                row["error"] = answer["error"]
            rows[w.name].append(row)
        print(f"{n + 1}/{len(items)} {item.id}", flush=True)
    for w in workers:
        w.close()
    keys = (
        "accuracy",
        "exact_match",
        "f1",
        "refusal_correct",
        "false_refusal",
        "citation_precision",
        "sentence_citation_precision",
        "hit@5",
        "mean_prompt_tokens",
        "ttft_ms_p50",
        "ttft_ms_p95",
        "total_ms_p50",
        "total_ms_p95",
        "errors",
    )
    summary = {name: summarise(r)["overall"] for name, r in rows.items()}
    print(f"\n{'metric':32}" + "".join(f"{name:>14}" for name in summary))
    for k in keys:
        print(f"{k:32}" + "".join(f"{str(s.get(k)):>14}" for s in summary.values()))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps(
            {
                "benchmark": "compare_versions",
                "command": " ".join(["bench/compare_versions.py", *sys.argv[1:]]),
                "machine": measured_on,
                "questions": str(args.questions),
                "versions": dict(versions),
                "settings": overrides,
                "seconds": round(time.time() - started, 1),
                "summary": {name: {k: s.get(k) for k in keys} for name, s in summary.items()},
                "rows": rows,
            },
            indent=1,
        )
    )
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
