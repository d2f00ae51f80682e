"""Probe: how much probability the model gave the refusal sentence, for answers it gave.

For each question of a (replayed) eval run that was answered past the checks, the probe
renders the same prompt, and reads the probability the model gives, token by token, to
ragqa's refusal sentence ("The sources do not contain the answer.") right after it. A
model that half meant to refuse may be answering a trap: if that mass separates right
answers from wrong ones and traps, a check could withhold on it (about ten tokens more
to evaluate after the prompt, which llama.cpp has cached). Nothing in the service
changes: this measures whether it would be worth building.

    python scripts/probe_refusal_mass.py /tmp/rp-dev9 data/dev9/questions.jsonl \\
        --index /tmp/idx-dev9 --out docs/eval/probe-refusal-mass/dev9.json

Tune on development sets only: the held-out sets must not shape a rule.
"""

from __future__ import annotations

import json
import math
import os
import sys
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from probing import model_service, probe_args, write_records  # noqa: E402  (scripts/, beside this one)
from replay_checks import outcome  # noqa: E402

from app.answer.prompt import REFUSAL  # noqa: E402


def refusal_logprob(llm: Any, prompt_tokens: list[int]) -> tuple[float, float]:
    """log P(refusal sentence | prompt) and P(its first token)."""
    import numpy as np

    llama = llm.llama
    llama.reset()
    llama.eval(prompt_tokens)
    total, first = 0.0, 0.0
    for i, tok in enumerate(llm.tokenize(REFUSAL)):
        logits = np.ctypeslib.as_array(llama._ctx.get_logits(), shape=(llama.n_vocab(),))
        z = logits.astype(np.float64) - float(logits.max())
        lp = float(z[tok] - math.log(float(np.exp(z).sum())))
        total += lp
        if i == 0:
            first = math.exp(lp)
        llama.eval([tok])
    return total, first


def main() -> int:
    args = probe_args("an eval run folder (results.jsonl)")
    service = model_service(args.index)
    llm = service.llm
    rows = [json.loads(x) for x in (args.run / "results.jsonl").read_text("utf-8").splitlines()]
    out = []
    for row in rows:
        if row["reason"] != "answered":
            continue
        q = service._start(row["question"], None, [])
        _, prompt = service._prompt(llm, q.pipeline.snapshot, row["question"], q.retrieval.hits)
        lp, first = refusal_logprob(llm, prompt.tokens)
        record = {
            "id": row["id"],
            "outcome": outcome(row),
            "refusal_logprob": round(lp, 3),
            "refusal_first": round(first, 4),
            "certainty": row.get("certainty"),
        }
        out.append(record)
        print(json.dumps(record), flush=True)
    write_records(args.out, out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
