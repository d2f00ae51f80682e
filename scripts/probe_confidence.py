"""Probe: how sure was the model of the words that make its claim?

Replays a finished eval run made before answers kept their tokens: for each question the
model answered, the same prompt (retrieved again: rows keep no retrieved list for traps)
and then the model's own text, one token at a time, reading the probability the model gave
each token. Printed per question, beside whether the answer was right, wrong or a trap:
its ``certainty`` as :class:`app.answer.checks.Unsure` computes it and its
``model_tokens``, which ``scripts/replay_checks.py --tokens`` reads.

    python scripts/probe_confidence.py docs/eval/dev4-first/results.jsonl --index IDX > out.jsonl
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.llm.local import LocalLLM  # noqa: E402
from app.llm.token_scores import TokenScore, least_sure  # noqa: E402


def token_probabilities(llm: LocalLLM, prompt: list[int], tokens: list[int]) -> list[float]:
    """P(token i | prompt, tokens[:i]) for every token of ``tokens``; the prefix already
    in the KV cache is not decoded again."""
    import numpy as np

    llama = llm.llama
    cached = llama.input_ids[: llama.n_tokens]
    keep = 0
    for a, b in zip(cached, prompt, strict=False):
        if a != b:
            break
        keep += 1
    llama.n_tokens = min(keep, len(prompt) - 1)
    llama.eval(prompt[llama.n_tokens :])
    out = []
    for token in tokens:
        logits = np.ctypeslib.as_array(llama._ctx.get_logits(), shape=(llama.n_vocab(),))
        p = np.exp(logits.astype(np.float64) - float(logits.max()))
        out.append(float(p[token] / p.sum()))
        llama.eval([token])
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("results", type=Path)
    ap.add_argument("--index", type=Path, default=None)
    ap.add_argument("--top-k", type=int, default=5)
    args = ap.parse_args()

    from app.answer.claims import claim_units
    from app.answer.service import RagService
    from app.llm import load_llm
    from app.settings import Settings

    settings = Settings(**({"index_dir": args.index} if args.index else {}))
    llm = load_llm(settings)
    assert isinstance(llm, LocalLLM)
    service = RagService(settings, llm=llm)
    service.open_index()
    for line in args.results.read_text("utf-8").splitlines():
        row = json.loads(line)
        text = row.get("model_text") or ""
        if not text.strip() or row.get("reason") in {"model_refused", "weak_retrieval"}:
            continue
        # the run's own retrieval, again (rows keep no retrieved list for traps)
        retrieval = service.index.retrieval.run(row["question"], args.top_k, None)
        if retrieval.withheld is not None:
            continue
        built, rendered = service.build_prompt(llm, row["question"], retrieval.hits)
        run_tokens = row.get("timings", {}).get("prompt_tokens")
        if run_tokens and run_tokens != len(rendered.tokens):
            print(
                f"{row['id']}: prompt of {len(rendered.tokens)}, not {run_tokens}", file=sys.stderr
            )
        t0 = time.perf_counter()
        tokens = llm.tokenize(text)
        probs = token_probabilities(llm, rendered.tokens, tokens)
        scores = [TokenScore(llm._detok([t]), p) for t, p in zip(tokens, probs, strict=True)]
        known = "\n".join(s.text for s in built.sources)
        figs, names, words = claim_units(text, row["question"], known)
        claims = [u.text for u in figs] + sorted(names) + sorted(words)  # as checks.Unsure
        kind = (
            "trap"
            if row["type"] == "unanswerable"
            else ("right" if row.get("accuracy") == 1.0 else "wrong")
        )
        print(
            json.dumps(
                {
                    "id": row["id"],
                    "kind": kind,
                    "shown": row["answerable_pred"],
                    "reason": row["reason"],
                    "certainty": least_sure(scores, claims),
                    "claims": claims,
                    "model_tokens": [
                        {"text": t.text, "probability": round(t.probability, 5)} for t in scores
                    ],
                    "s": round(time.perf_counter() - t0, 1),
                }
            ),
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
