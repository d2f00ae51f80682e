"""Every failing question of an eval run, grouped by cause, as docs/EVALUATION.md lists them.

A question fails when an answerable one is not answered right, or a trap (unanswerable)
is answered. The cause comes from the row itself: the answer check that withheld it (and
whether the model's own text, ``model_text``, held a gold answer, i.e. whether the check
cost a right answer or stopped a wrong one), a refusal by the model, or a wrong answer;
with whether the evidence was in the top 5 passages.

    python scripts/failures.py docs/eval/dev-now data/eval/questions.jsonl
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.evaluation.dataset import EvalItem, load_questions  # noqa: E402
from app.evaluation.runner import answer_accuracy  # noqa: E402


def cause(row: dict[str, Any], item: EvalItem) -> str | None:
    """Why this row fails, or None when it does not."""
    if not item.answerable:
        return "trap answered: every check passed it" if row["answerable_pred"] else None
    if row["accuracy"]:
        return None
    found = "in the top 5" if row.get("hit@5") else "not retrieved in the top 5"
    reason = row.get("reason", "")
    if row.get("error"):
        return "error or time-out"
    if reason == "model_refused":
        return f"model refused (evidence {found})"
    if reason != "answered":
        was = "right" if answer_accuracy(item, row.get("model_text") or "") else "wrong too"
        return f"withheld by `{reason}`: the model's answer was {was}"
    return "answered wrong" + ("" if row.get("hit@5") else " (evidence not retrieved)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run", type=Path, help="a run folder holding results.jsonl")
    ap.add_argument("questions", type=Path)
    args = ap.parse_args()
    items = {q.id: q for q in load_questions(args.questions)}
    groups: dict[str, list[str]] = defaultdict(list)
    rows = [json.loads(line) for line in (args.run / "results.jsonl").open(encoding="utf-8")]
    for row in rows:
        why = cause(row, items[row["id"]])
        if why:
            groups[why].append(row["id"])
    print(f"{args.run} ({len(rows)} questions):")
    for why, ids in sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        print(f"- {why}: {len(ids)} — {', '.join(sorted(ids))}")


if __name__ == "__main__":
    main()
