"""Where to set RAGQA_MIN_SCORE: the best retrieval score of answerable against unanswerable
questions (no LLM needed).

    python scripts/sweep_min_score.py [--questions data/eval/questions.jsonl] [--corpus data/articles]

ragqa refuses without calling the model when the best dense similarity of the retrieved
passages is below ``min_score``. For each threshold this prints the share of unanswerable
questions refused that way (good) and of answerable ones refused (bad), and the score
distributions of both, as a Markdown table.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from app.answer.service import RagService  # noqa: E402
from app.evaluation.dataset import load_questions  # noqa: E402
from app.settings import Settings  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--questions", type=Path, default=ROOT / "data/eval/questions.jsonl")
    ap.add_argument("--corpus", type=Path, default=ROOT / "data/articles")
    ap.add_argument("--thresholds", default="0.1,0.15,0.2,0.25,0.3,0.35,0.4,0.45,0.5")
    args = ap.parse_args()
    items = load_questions(args.questions)
    with tempfile.TemporaryDirectory() as tmp:
        svc = RagService(Settings(_env_file=None, index_dir=Path(tmp)))  # type: ignore[call-arg]
        svc.ingest([args.corpus])
        best: dict[bool, list[float]] = {True: [], False: []}
        for item in items:
            hits, _ = svc.retrieve(item.question, svc.settings.top_k)
            best[item.answerable].append(max((h.dense_score or -1.0 for h in hits), default=-1.0))
    for answerable, scores in best.items():
        kind = "answerable" if answerable else "unanswerable"
        print(
            f"{kind}: n={len(scores)} min={min(scores):.3f} "
            f"median={statistics.median(scores):.3f} max={max(scores):.3f}"
        )
    print("\n| min_score | unanswerable refused before the LLM | answerable refused (false) |")
    print("| --- | --- | --- |")
    for t in (float(x) for x in args.thresholds.split(",")):
        good = sum(s < t for s in best[False]) / len(best[False])
        bad = sum(s < t for s in best[True]) / len(best[True])
        print(f"| {t:.2f} | {good:.3f} | {bad:.3f} |")


if __name__ == "__main__":
    main()
