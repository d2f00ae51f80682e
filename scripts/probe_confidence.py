"""Probe: how sure was the model of the words that make its claim?

Replays a finished eval run: for each question the model answered, the same prompt (the
run's retrieved passages) and then the model's own text, one token at a time, reading the
probability the model gave each of its tokens. Printed per question, beside whether the
answer was right, wrong or a trap: the least probability over the tokens of the claim's
figures and names (:func:`app.answer.claims.claim_units`), over the answer's first
sentence, and the mean log-probability. A trap answered from a figure the sources give
for something else may be a figure the model was less sure of.

    python scripts/probe_confidence.py docs/eval/dev4-first/results.jsonl --index IDX > out.jsonl
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.llm.local import LocalLLM  # noqa: E402


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


def spans_of(text: str, needles: set[str]) -> list[tuple[int, int]]:
    low = text.lower()
    spans = []
    for n in needles:
        i = low.find(n.lower())
        if i >= 0:
            spans.append((i, i + len(n)))
    return spans


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
    refusal = service.settings.refusal_text if hasattr(service.settings, "refusal_text") else ""
    for line in args.results.read_text("utf-8").splitlines():
        row = json.loads(line)
        text = row.get("model_text") or ""
        if not text.strip() or row.get("reason") in {"model_refused", "weak_retrieval"}:
            continue
        if refusal and text.strip() == refusal:
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
        known = "\n".join(s.text for s in built.sources)
        figs, names, _ = claim_units(text, row["question"], known)
        units = {u.text for u in figs} | names
        spans = spans_of(text, units)
        # character offsets of each token, to find the tokens of each unit
        pos, claim_p = 0, []
        first_end = next((i for i, ch in enumerate(text) if ch in ".\n" and i > 10), len(text))
        first_p = []
        for tok, p in zip(tokens, probs, strict=True):
            piece = llm._detok([tok])
            start, pos = pos, pos + len(piece)
            if any(start < b and pos > a for a, b in spans):
                claim_p.append(p)
            if start < first_end:
                first_p.append(p)
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
                    "claim_min": round(min(claim_p), 4) if claim_p else None,
                    "claim_mean_lp": round(sum(map(math.log, claim_p)) / len(claim_p), 4)
                    if claim_p
                    else None,
                    "first_min": round(min(first_p), 4) if first_p else None,
                    "mean_lp": round(sum(math.log(max(p, 1e-12)) for p in probs) / len(probs), 4)
                    if probs
                    else None,
                    "units": sorted(units),
                    "model_tokens": [
                        {"text": llm._detok([t]), "probability": round(p, 5)}
                        for t, p in zip(tokens, probs, strict=True)
                    ],
                    "s": round(time.perf_counter() - t0, 1),
                }
            ),
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
