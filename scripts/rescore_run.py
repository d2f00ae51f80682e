"""Score a finished run again with today's rules, so old runs and peers compare fairly.

Today's rules (app/evaluation): a multi-part question needs every part; a question that
errored is wrong, never a correct refusal; token F1 and exact match beside accuracy.
``--detect-refusals`` decides "refused" from the answer text with ragqa's refusal
detector (for peers, whose answers carry no ``answerable`` flag of their own). Retrieval
and citation figures are kept from the run (they need the run's own document store).

    python scripts/rescore_run.py docs/eval/peer-llamaindex data/eval/questions.jsonl \\
        --detect-refusals
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from app.answer.citations import is_refusal
from app.evaluation.dataset import load_questions
from app.evaluation.metrics import exact_match, token_f1
from app.evaluation.runner import answer_accuracy, summarise


def rescore(row: dict[str, Any], item: Any, detect: bool) -> dict[str, Any]:
    row = dict(row)
    failed = bool(row.get("error"))
    refused = (is_refusal(row["answer"]) if detect else not row["answerable_pred"]) and not failed
    row["answerable_pred"] = not refused and not failed
    if not item.answerable:
        row["refusal_correct"] = float(refused)
        return row
    wrong = refused or failed
    row["accuracy"] = 0.0 if wrong else answer_accuracy(item, row["answer"])
    row["exact_match"] = 0.0 if wrong else exact_match(row["answer"], item.answers)
    row["f1"] = 0.0 if wrong else token_f1(row["answer"], item.answers)
    row["false_refusal"] = float(refused)
    return row


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("run", type=Path, help="folder with results.jsonl")
    ap.add_argument("questions", type=Path)
    ap.add_argument("--detect-refusals", action="store_true")
    args = ap.parse_args()
    items = {i.id: i for i in load_questions(args.questions)}
    source = args.run / "results.jsonl"
    if not source.is_file():
        source = args.run / "results.partial.jsonl"
    rows = [json.loads(line) for line in source.read_text("utf-8").splitlines() if line.strip()]
    rows = [rescore(r, items[r["id"]], args.detect_refusals) for r in rows if r["id"] in items]
    summary = summarise(rows)
    out = args.run / "summary-rescored.json"
    out.write_text(json.dumps({"rules": "app/evaluation as of this commit", **summary}, indent=1))
    overall = summary["overall"]
    for key in (
        "n",
        "accuracy",
        "exact_match",
        "f1",
        "refusal_correct",
        "false_refusal",
        "citation_precision",
        "sentence_citation_precision",
        "hit@5",
        "total_ms_p50",
    ):
        print(f"{key:30} {overall.get(key)}")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
