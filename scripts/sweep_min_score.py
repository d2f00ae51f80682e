"""Where to set RAGQA_MIN_SCORE: the best retrieval score of answerable against unanswerable
questions (no LLM needed).

    python scripts/sweep_min_score.py [--questions data/eval/questions.jsonl] [--corpus data/articles]
        [--out bench/results/sweep-min-score.json]

ragqa refuses without calling the model when the best dense similarity of the retrieved
passages is below ``min_score``. For each threshold this prints the share of unanswerable
questions refused that way (good) and of answerable ones refused (bad), and the score
distributions of both (and of a few off-topic questions), as a Markdown table, and writes
them with the commit and machine to ``--out``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from app.answer.service import RagService  # noqa: E402
from app.evaluation.dataset import load_questions  # noqa: E402
from app.provenance import machine  # noqa: E402
from app.settings import Settings  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
# questions about nothing in the demo corpus: what min_score is for
OFF_TOPIC = (
    "What is the capital of France?",
    "How do I bake sourdough bread?",
    "Who won the 2018 football World Cup?",
    "What is the boiling point of water at sea level?",
    "How many legs does a spider have?",
    "Which planet is closest to the sun?",
)


def _spread(scores: list[float]) -> dict[str, float]:
    return {
        "n": len(scores),
        "min": round(min(scores), 3),
        "median": round(statistics.median(scores), 3),
        "max": round(max(scores), 3),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--questions", type=Path, default=ROOT / "data/eval/questions.jsonl")
    ap.add_argument("--corpus", type=Path, default=ROOT / "data/articles")
    ap.add_argument("--thresholds", default="0.1,0.15,0.2,0.25,0.3,0.35,0.4,0.45,0.5")
    ap.add_argument("--out", type=Path, default=ROOT / "bench/results/sweep-min-score.json")
    args = ap.parse_args()
    measured_on = machine()
    items = load_questions(args.questions)
    with tempfile.TemporaryDirectory() as tmp:
        svc = RagService(Settings(_env_file=None, index_dir=Path(tmp)))  # type: ignore[call-arg]
        svc.ingest([args.corpus])
        best: dict[bool, list[float]] = {True: [], False: []}
        for item in items:
            hits, _ = svc.retrieve(item.question, svc.settings.top_k)
            best[item.answerable].append(max((h.dense_score or -1.0 for h in hits), default=-1.0))
        off = [
            max(
                (h.dense_score or -1.0 for h in svc.retrieve(q, svc.settings.top_k)[0]),
                default=-1.0,
            )
            for q in OFF_TOPIC
        ]
    spread = {
        "answerable": _spread(best[True]),
        "unanswerable": _spread(best[False]),
        "off_topic": _spread(off),
    }
    for kind, sp in spread.items():
        print(f"{kind}: " + " ".join(f"{k}={v}" for k, v in sp.items()))
    print("\n| min_score | unanswerable refused before the LLM | answerable refused (false) |")
    print("| --- | --- | --- |")
    rows = []
    for t in (float(x) for x in args.thresholds.split(",")):
        good = sum(s < t for s in best[False]) / len(best[False])
        bad = sum(s < t for s in best[True]) / len(best[True])
        rows.append({"min_score": t, "unanswerable_refused": good, "answerable_refused": bad})
        print(f"| {t:.2f} | {good:.3f} | {bad:.3f} |")
    result: dict[str, Any] = {"benchmark": "sweep_min_score", "machine": measured_on}
    result |= {"best_score": spread}
    result |= {"off_topic_questions": OFF_TOPIC, "rows": rows}
    args.out.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
