"""Replay the answer checks over a finished eval run, without the model.

Generation does not depend on the checks, so a run that recorded the model's own text
(``model_text``, recorded since commit 19f1aa1) can be put through today's checks and
citations again (:meth:`app.answer.service.RagService.check_text`) and scored by the
evaluator's own rules: the same figures a new run of the same generation would give.
Settings come from the environment as usual, so a check setting can be tried without a
run of the model (``RAGQA_CLAIM_MIN_SUBJECT=0.3``, ``RAGQA_VERIFY_CLAIMS=false``).

Tune on the development set only: the held-out set must not shape a rule.

    python scripts/replay_checks.py runs/shipped-dev data/eval/questions.jsonl \\
        --index /tmp/idx-dev --out runs/shipped-dev-replay [--show]

Printed: the summary beside the run's own, and every question whose outcome changed.
Rows without ``model_text`` (older runs, or a question that errored) are kept as they were.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.evaluation.dataset import load_questions  # noqa: E402
from app.evaluation.runner import KS, score_item, summarise  # noqa: E402
from app.llm.token_scores import TokenScore  # noqa: E402

KEYS = (
    "accuracy",
    "refusal_correct",
    "false_refusal",
    "f1",
    "citation_precision",
    "sentence_citation_precision",
)


def outcome(row: dict[str, Any]) -> str:
    if "refusal_correct" in row:
        return "trap refused" if row["refusal_correct"] else "trap answered"
    if row.get("false_refusal"):
        return "refused"
    return "right" if row.get("accuracy") == 1.0 else "wrong"


def read_rows(run: Path, version: str | None) -> list[dict[str, Any]]:
    """The rows of an eval run folder, or of one version of a compare_versions file."""
    if run.is_file():
        rows: dict[str, list[dict[str, Any]]] = json.loads(run.read_text("utf-8"))["rows"]
        if version not in rows:
            sys.exit(f"{run} has versions {sorted(rows)}: pick one with --version")
        return rows[version]
    source = run / "results.jsonl"
    if not source.is_file():
        source = run / "results.partial.jsonl"
    return [json.loads(x) for x in source.read_text("utf-8").splitlines() if x.strip()]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument(
        "run", type=Path, help="folder with results.jsonl, or a bench/compare_versions.py file"
    )
    ap.add_argument("--version", help="with a compare_versions file: whose rows to replay")
    ap.add_argument("questions", type=Path)
    ap.add_argument("--index", type=Path, required=True, help="the index the run used")
    ap.add_argument(
        "--answered-text",
        action="store_true",
        help="for runs without model_text: replay the answered rows' own answer text "
        "(an approximation: the answer as the run's version shaped it)",
    )
    ap.add_argument(
        "--tokens",
        type=Path,
        help="for runs made before answers kept model_tokens: a scripts/probe_confidence.py "
        "output giving each question's tokens and their probabilities",
    )
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--show", action="store_true", help="print every question")
    args = ap.parse_args()

    from app.answer.service import RagService
    from app.evaluation.runner import InProcessBackend
    from app.settings import Settings

    settings = Settings(index_dir=args.index)
    service = RagService(settings)
    service.open_index()
    backend = InProcessBackend(service)  # retrieval and documents as the evaluator reads them
    items = {i.id: i for i in load_questions(args.questions)}
    old = read_rows(args.run, args.version)
    probed = {}
    if args.tokens:
        for line in args.tokens.read_text("utf-8").splitlines():
            probe = json.loads(line)
            probed[probe["id"]] = probe["model_tokens"]
    new = []
    for row in old:
        raw = row.get("model_text")
        if not raw and args.answered_text and row.get("reason") == "answered":
            raw = row["answer"]
        if not raw or row.get("error"):
            new.append(row)
            continue
        tokens = row.get("model_tokens") or probed.get(row["id"]) or []
        scores = [TokenScore(t["text"], t["probability"]) for t in tokens]
        answer = service.check_text(row["question"], raw, scores).model_dump()
        answer["timings"] = row["timings"]
        item = items[row["id"]]
        retrieved = backend.retrieve(item.question, max(KS)) if item.answerable else []
        scored = score_item(item, answer, retrieved, backend.document_text)
        new.append(scored)
        before, after = outcome(row), outcome(scored)
        if args.show or before != after:
            print(
                f"{row['id']} {before:13} -> {after:13} {scored['reason']:13} "
                f"{row['question'][:70]}"
            )
            if before != after:
                print(f"      model: {raw[:150]!r}\n      {scored.get('detail') or ''}")
    a, b = summarise(old)["overall"], summarise(new)["overall"]
    print("\n" + " " * 28 + "run     replay")
    for key in ("n", *KEYS):
        print(f"{key:28}{a.get(key)!s:8}{b.get(key)!s:8}")
    if args.out:
        from app.evaluation.report import write_run
        from app.provenance import machine

        meta = {
            **machine(),
            "backend": f"replay of {args.run} (model text, today's checks)",
            "command": " ".join(sys.argv),
        }
        write_run(args.out, new, summarise(new), meta)
    return 0


if __name__ == "__main__":
    sys.exit(main())
