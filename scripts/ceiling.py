"""How far the checks can take answer accuracy on a run: the model's own texts, scored.

The answer checks can only withhold, so the accuracy of the model's own texts
(``model_text``, what it said before any check) is a ceiling for the accuracy ragqa
shows. This splits that ceiling by whether every evidence passage of the question was in
the five sources of its prompt (``recall@5`` of the row) — an answer can hardly be right
when its evidence was never given to the model.

    python scripts/ceiling.py docs/eval/dev-s36 data/eval/questions.jsonl [RUN QUESTIONS …]

Prints counts and shares only (no question), so it may be run on the frozen sets.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.evaluation.dataset import load_questions  # noqa: E402
from app.evaluation.runner import answer_accuracy  # noqa: E402


def ceiling(run: Path, questions: Path) -> Counter[str]:
    """Counts over the answerable questions: ``n``, ``shown`` (right as shown),
    ``own`` (the model's own text right), and both again for ``full`` and ``missing``
    evidence (``full:n``, ``full:own``, …)."""
    items = {q.id: q for q in load_questions(questions)}
    counts: Counter[str] = Counter()
    for line in (run / "results.jsonl").open(encoding="utf-8"):
        row = json.loads(line)
        item = items[row["id"]]
        if not item.answerable:
            continue
        group = "full" if (row.get("recall@5") or 0.0) > 0.999 else "missing"
        own = answer_accuracy(item, row.get("model_text") or row.get("answer") or "")
        for prefix in ("", f"{group}:"):
            counts[f"{prefix}n"] += 1
            counts[f"{prefix}own"] += int(own)
            counts[f"{prefix}shown"] += int(bool(row.get("accuracy")))
    return counts


def _share(counts: Counter[str], part: str, whole: str) -> str:
    return f"{counts[part] / counts[whole]:.3f}" if counts[whole] else "-"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("pairs", nargs="+", help="RUN QUESTIONS [RUN QUESTIONS …]")
    args = ap.parse_args()
    if len(args.pairs) % 2:
        ap.error("give a questions file after every run folder")
    print(
        "| run | answerable | evidence all in the prompt | model's own text right: "
        "evidence all there | evidence missing | in all (ceiling) | shown right |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- |")
    total: Counter[str] = Counter()
    runs = list(zip(args.pairs[::2], args.pairs[1::2], strict=True))
    for run, questions in runs:
        c = ceiling(Path(run), Path(questions))
        total.update(c)
        print(_row(Path(run).name, c))
    if len(runs) > 1:
        print(_row("all", total))


def _row(name: str, c: Counter[str]) -> str:
    return (
        f"| {name} | {c['n']} | {_share(c, 'full:n', 'n')} | {_share(c, 'full:own', 'full:n')} | "
        f"{_share(c, 'missing:own', 'missing:n')} | {_share(c, 'own', 'n')} | "
        f"{_share(c, 'shown', 'n')} |"
    )


if __name__ == "__main__":
    main()
