"""Replay the claim check (app.answer.verify) over a finished eval run, without the LLM.

For each question the run answered, the check sees the same answer and the same five
passages the model saw, and says whether one sentence states the claim. Printed: right
answers it would withhold (the cost) and wrong answers / answered traps it would catch
(the gain). Use it on the development set only: the held-out set must not shape the rule.

    python scripts/replay_checks.py docs/eval/default/results.jsonl [--index index]
        [--min-subject 0.34] [--show]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from app.answer.verify import Passage, check_claim
from app.settings import Settings
from app.vectorstore.store import IndexStore


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("results", type=Path)
    ap.add_argument("--index", type=Path, default=None)
    ap.add_argument("--top-k", type=int, default=5)
    ap.add_argument("--min-subject", type=float, default=0.34)
    ap.add_argument("--show", action="store_true", help="print every decision")
    args = ap.parse_args()
    settings = Settings(**({"index_dir": args.index} if args.index else {}))
    store = IndexStore(settings.index_dir)
    snap = store.load()
    chunks = {c.chunk_id: c for c in snap.chunks}
    tally = {"right_kept": 0, "right_withheld": 0, "wrong_kept": 0, "wrong_caught": 0,
             "trap_kept": 0, "trap_caught": 0}
    for line in args.results.read_text("utf-8").splitlines():
        row = json.loads(line)
        if not row["answerable_pred"]:
            continue
        passages = []
        for i, r in enumerate(row["retrieved"][: args.top_k]):
            c = chunks.get(r["chunk_id"])
            if c is None:
                continue
            doc = snap.documents[c.doc_id]
            passages.append(Passage(i + 1, doc.title, c.heading or "", c.text))
        check = check_claim(row["answer"], row["question"], passages, min_subject=args.min_subject)
        if row["type"] == "unanswerable":
            kind = "trap"
        else:
            kind = "right" if row.get("accuracy") == 1.0 else "wrong"
        good = {"right": "kept", "wrong": "caught", "trap": "caught"}[kind]
        verdict = ("kept" if check.stated else "withheld") if kind == "right" else (
            "kept" if check.stated else "caught")
        tally[f"{kind}_{verdict}"] += 1
        if args.show or verdict != good:
            print(f"{row['id']} {kind:5} {verdict:8} {row['question']}\n      A: {row['answer'][:160]}")
            print(f"      {check.detail or [s.text[:120] for s in check.support]}")
    print(json.dumps(tally, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
