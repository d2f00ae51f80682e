"""What the model reads, per setting, without generating: prompt tokens per question and
the share of answerable questions whose evidence is still in the prompt (issue 15).

Sentence windows cut prompt tokens; the risk is cutting the sentence that answers. This
measures both for each ``RAGQA_PASSAGE_SENTENCES`` value over a question set, in
seconds (the model is loaded only to count tokens with its own tokenizer).

    python bench/prompt_budget.py data/eval/questions.jsonl --top-k 3 4 5 --sentences 0 2 3
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.answer.service import RagService  # noqa: E402
from app.evaluation.dataset import load_questions  # noqa: E402
from app.llm import load_llm  # noqa: E402
from app.settings import Settings  # noqa: E402
from bench._common import RESULTS, machine  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("questions", type=Path)
    ap.add_argument("--index", type=Path, default=None)
    ap.add_argument("--sentences", type=int, nargs="+", default=[0, 2, 3, 4])
    ap.add_argument("--top-k", type=int, nargs="+", default=[3, 4, 5])
    ap.add_argument(
        "--budget", type=int, nargs="+", default=[0], help="RAGQA_PASSAGE_BUDGET values"
    )
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    items = load_questions(args.questions)
    base = Settings(**({"index_dir": args.index} if args.index else {}))
    llm = load_llm(base)
    results = {}
    grid = [(k, n, b) for k in args.top_k for n in args.sentences for b in args.budget]
    for k, n, b in grid:
        update = {"passage_sentences": n, "top_k": k, "passage_budget": b}
        settings = base.model_copy(update=update)
        service = RagService(settings, llm=llm)
        service.open_index()
        tokens, kept, answerable = [], 0, 0
        for item in items:
            q = service._start(item.question, None, [])
            if q.retrieval.withheld:
                continue
            built, rendered = service.build_prompt(llm, item.question, q.retrieval.hits)
            tokens.append(len(rendered.tokens))
            if item.answerable:
                answerable += 1
                text = " ".join(s.text for s in built.sources)
                # the evidence's key sentence: is some evidence passage wholly in the prompt?
                kept += any(ev in text for ev in item.evidence)
        name = f"top_k={k} passage_sentences={n} passage_budget={b}"
        results[name] = {
            "mean_prompt_tokens": round(statistics.mean(tokens), 1),
            "median_prompt_tokens": statistics.median(tokens),
            "evidence_in_prompt": round(kept / answerable, 3) if answerable else None,
        }
        print(f"{name}: {results[name]}", flush=True)
    out = args.out or RESULTS / f"prompt-budget-{args.questions.stem}.json"
    out.write_text(
        json.dumps(
            {
                "benchmark": "prompt_budget",
                "command": " ".join(["bench/prompt_budget.py", *sys.argv[1:]]),
                "machine": machine(),
                "results": results,
            },
            indent=1,
        )
    )
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
