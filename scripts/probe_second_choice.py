"""Probe: when a check withholds an answer, let the model go on from its second choice.

For each question of a finished eval run whose answer today's checks withhold
(``not_stated`` or ``unsupported``; the run must have kept ``model_tokens``), the probe
finds the token of the answer's claim (:func:`app.answer.claims.claim_units`: the
figures and names it adds to the question) that the model was least sure of, puts the
answer up to that token back after the same prompt, takes the model's best *other* token
there and lets it go on greedily, then runs the checks over the new text and scores it
with the evaluator's rules. Nothing in the service changes: this measures whether a
second try would be worth its time.

    python scripts/probe_second_choice.py docs/eval/dev7-s33 data/dev7/questions.jsonl \\
        --index /tmp/idx-dev7 --out docs/eval/probe-second-choice/dev7.json

Tune on development sets only: the held-out sets must not shape a rule.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from probing import model_service, probe_args, write_records  # noqa: E402  (scripts/, beside this one)
from replay_checks import outcome  # noqa: E402

from app.answer.citations import parse_citations  # noqa: E402
from app.answer.citing import short_answer  # noqa: E402
from app.answer.claims import claim_units  # noqa: E402
from app.evaluation.dataset import load_questions  # noqa: E402
from app.evaluation.runner import KS, InProcessBackend, score_item  # noqa: E402
from app.llm.token_scores import TokenScore  # noqa: E402

WITHHELD = ("not_stated", "unsupported")


def least_sure_at(question: str, raw: str, scores: list[TokenScore], known: str) -> int | None:
    """The index of the least likely token of the answer's claim, or None without one."""
    figs, names, words = claim_units(parse_citations(short_answer(raw), 9).text, question, known)
    spelled = "".join(s.text for s in scores).lower()
    spans = []
    for claim in [u.text for u in figs] + sorted(names) + sorted(words):
        at = spelled.find(claim.lower()) if claim else -1
        if at >= 0:
            spans.append((at, at + len(claim)))
    best, pos = None, 0
    for i, s in enumerate(scores):
        start, pos = pos, pos + len(s.text)
        mine = s.text.strip() and any(start < b and pos > a for a, b in spans)
        if mine and (best is None or s.probability < scores[best].probability):
            best = i
    return best


def retry(service: Any, llm: Any, question: str, raw: str, scores: list[TokenScore]) -> Any:
    """The new text and scores, and what was swapped; None when the claim is not found."""
    import numpy as np

    from app.llm.base import RenderedPrompt

    q = service._start(question, None, [])
    built, prompt = service._prompt(llm, q.pipeline.snapshot, question, q.retrieval.hits, [])
    i = least_sure_at(question, raw, scores, "\n".join(s.text for s in built.sources))
    if i is None:
        return None
    prefix = "".join(s.text for s in scores[:i])
    ids = llm.tokenize(prefix) if prefix else []
    own = llm.tokenize(prefix + scores[i].text)[len(ids) :][:1]
    llama = llm.llama
    llama.reset()
    llama.eval(prompt.tokens + ids)
    logits = np.ctypeslib.as_array(llama._ctx.get_logits(), shape=(llama.n_vocab(),))
    p = np.exp(logits.astype(np.float64) - float(logits.max()))
    p /= p.sum()
    p[own] = -1.0
    other = int(p.argmax())
    text = llm._detok(ids + [other])[len(prefix) :]
    again = RenderedPrompt(prompt.text + prefix + text, prompt.tokens + ids + [other], prompt.stop)
    more: list[TokenScore] = []
    budget = max(1, built.max_answer_tokens - len(ids) - 1)
    rest = "".join(llm.stream_scored(again, more, max_tokens=budget))
    swapped = f"{scores[i].text!r}@{scores[i].probability:.2f} -> {text!r}@{float(p[other]):.2f}"
    return prefix + text + rest, [*scores[:i], TokenScore(text, float(p[other])), *more], swapped


def main() -> int:
    args = probe_args("an eval run folder (results.jsonl with model_tokens)")
    service = model_service(args.index)
    llm = service.llm
    backend = InProcessBackend(service)
    items = {i.id: i for i in load_questions(args.questions)}
    rows = [json.loads(x) for x in (args.run / "results.jsonl").read_text("utf-8").splitlines()]
    out = []
    for row in rows:
        item, raw = items[row["id"]], row.get("model_text")
        scores = [TokenScore(t["text"], t["probability"]) for t in row.get("model_tokens") or []]
        if not raw or not scores:
            continue
        before = service.check_text(item.question, raw, scores)
        if before.reason not in WITHHELD:
            continue
        t0 = time.perf_counter()
        got = retry(service, llm, item.question, raw, scores)
        if got is None:
            continue
        text, new_scores, swapped = got
        ms = round((time.perf_counter() - t0) * 1000)
        after = service.check_text(item.question, text, new_scores)
        retrieved = backend.retrieve(item.question, max(KS)) if item.answerable else []
        old = score_item(item, before.model_dump(), retrieved, backend.document_text)
        new = score_item(item, after.model_dump(), retrieved, backend.document_text)
        record = {
            "id": item.id,
            "before": outcome(old),
            "after": outcome(new),
            "reason": after.reason,
            "swapped": swapped,
            "old_text": raw,
            "new_text": text,
            "retry_ms": ms,
        }
        out.append(record)
        print(json.dumps(record, ensure_ascii=False), flush=True)
    write_records(args.out, out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
