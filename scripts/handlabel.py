"""Hand-labelling: how far does the automatic accuracy agree with a person's judgement?

``sample`` draws a seeded random sample of answered-or-refused questions from finished
runs into a JSON-lines file with an empty ``human`` field; a person fills in ``human``
for each (1 = the answer is right, or a trap correctly refused; 0 = wrong, or a false
refusal) and a ``note``; ``agree`` then reports the agreement of the automatic score with
those labels, and lists the disagreements.

    python scripts/handlabel.py sample runs/v3-dev runs/v3-heldout --n 30 --out docs/eval/handlabels.jsonl
    python scripts/handlabel.py agree docs/eval/handlabels.jsonl
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path


def auto_score(row: dict[str, object]) -> int:
    key = "refusal_correct" if row["type"] == "unanswerable" else "accuracy"
    return int(float(row.get(key) or 0.0))  # type: ignore[arg-type]


def sample(runs: list[Path], n: int, seed: int, out: Path) -> None:
    rows = []
    for run in runs:
        for line in (run / "results.jsonl").read_text("utf-8").splitlines():
            row = json.loads(line)
            row["run"] = str(run)
            rows.append(row)
    picked = random.Random(seed).sample(rows, n)
    with out.open("w", encoding="utf-8") as f:
        for r in picked:
            f.write(
                json.dumps(
                    {
                        "run": r["run"],
                        "id": r["id"],
                        "type": r["type"],
                        "question": r["question"],
                        "gold": r["gold"],
                        "answer": r["answer"],
                        "reason": r.get("reason"),
                        "auto": auto_score(r),
                        "human": None,
                        "note": "",
                    },
                    ensure_ascii=False,
                )
                + "\n"
            )
    print(f"wrote {n} rows to {out} (seed {seed}); fill in 'human' (1/0) and 'note'")


def agree(path: Path) -> None:
    rows = [json.loads(x) for x in path.read_text("utf-8").splitlines() if x.strip()]
    labelled = [r for r in rows if r["human"] is not None]
    same = [r for r in labelled if r["auto"] == r["human"]]
    print(f"{len(same)}/{len(labelled)} agree ({len(same) / max(1, len(labelled)):.2f})")
    auto_acc = sum(r["auto"] for r in labelled) / max(1, len(labelled))
    human_acc = sum(r["human"] for r in labelled) / max(1, len(labelled))
    print(f"automatic score {auto_acc:.3f}, human score {human_acc:.3f} on the sample")
    for r in labelled:
        if r["auto"] != r["human"]:
            print(f"  {r['id']} auto {r['auto']} human {r['human']}: {r['note']}")


def main() -> int:
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("sample")
    s.add_argument("runs", type=Path, nargs="+")
    s.add_argument("--n", type=int, default=30)
    s.add_argument("--seed", type=int, default=14)
    s.add_argument("--out", type=Path, required=True)
    a = sub.add_parser("agree")
    a.add_argument("path", type=Path)
    args = ap.parse_args()
    if args.cmd == "sample":
        sample(args.runs, args.n, args.seed, args.out)
    else:
        agree(args.path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
