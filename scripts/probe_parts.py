"""Probe: a question of two parts answered one part at a time.

A 1.5B model asked "When was the deal signed, and how many people will the mill
employ?" often answers one part, or takes one part's fact from the wrong sentence. For
each two-part question of a finished eval run (:func:`app.answer.claims.question_parts`),
the probe asks the model once per part: the same sources, the whole question first as
always, but the question line after the sources asks only that part (so llama.cpp keeps
the prompt up to there in its KV cache and the second part costs only its own tokens).
Each part's first sentence is kept; the two are joined and put through the checks as
one answer to the whole question, and scored with the evaluator's rules. A part the model
refuses makes the whole a refusal. Nothing in the service changes: this measures whether
it is worth building.

    python scripts/probe_parts.py docs/eval/dev9-s34 data/dev9/questions.jsonl \\
        --index /tmp/idx-dev9 --out docs/eval/probe-parts/dev9.json

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

import app.answer.prompt as prompt_module  # noqa: E402
from app.answer.citations import is_refusal  # noqa: E402
from app.answer.claims import question_parts  # noqa: E402
from app.answer.prompt import REFUSAL  # noqa: E402
from app.evaluation.dataset import load_questions  # noqa: E402
from app.evaluation.runner import KS, InProcessBackend, score_item  # noqa: E402
from app.llm.token_scores import TokenScore  # noqa: E402
from app.text.sentences import sentence_spans  # noqa: E402

_format_user = prompt_module.format_user
_asking: dict[str, str] = {}  # the part the question line after the sources asks


def _format_part(question: str, sources: Any) -> str:
    text = _format_user(question, sources)
    part = _asking.get("part")
    if not part:
        return text
    head, sep, _ = text.rpartition("\n\nQuestion: ")
    return f"{head}{sep}{part}\n{prompt_module.ANSWER_INSTRUCTION}"


prompt_module.format_user = _format_part


def as_question(part: str) -> str:
    part = part.strip().rstrip("?").strip()
    return part[:1].upper() + part[1:] + "?"


def first_sentence(raw: str) -> str:
    spans = sentence_spans(raw.strip())
    return spans[0].text if spans else raw.strip()


def ask_parts(service: Any, question: str) -> tuple[str, list[TokenScore], list[str], int]:
    texts, scores = [], []
    t0 = time.perf_counter()
    for part in question_parts(question):
        _asking["part"] = as_question(part)
        try:
            answer = service.ask(question)
        finally:
            _asking.clear()
        raw = answer.model_text or ""
        texts.append(raw)
        scores += [TokenScore(t.text, t.probability) for t in answer.model_tokens or []]
    ms = round((time.perf_counter() - t0) * 1000)
    if any(not t.strip() or is_refusal(t) for t in texts):
        return REFUSAL, scores, texts, ms
    return " ".join(first_sentence(t) for t in texts), scores, texts, ms


def main() -> int:
    args = probe_args()
    service = model_service(args.index)
    backend = InProcessBackend(service)
    items = {i.id: i for i in load_questions(args.questions)}
    rows = [json.loads(x) for x in (args.run / "results.jsonl").read_text("utf-8").splitlines()]
    out = []
    for row in rows:
        item, raw = items[row["id"]], row.get("model_text") or ""
        if len(question_parts(item.question)) != 2:
            continue
        scores = [TokenScore(t["text"], t["probability"]) for t in row.get("model_tokens") or []]
        before = service.check_text(item.question, raw, scores)
        text, new_scores, texts, ms = ask_parts(service, item.question)
        after = service.check_text(item.question, text, new_scores)
        retrieved = backend.retrieve(item.question, max(KS)) if item.answerable else []
        old = score_item(item, before.model_dump(), retrieved, backend.document_text)
        new = score_item(item, after.model_dump(), retrieved, backend.document_text)
        record = {
            "id": item.id,
            "before": outcome(old),
            "after": outcome(new),
            "reason": after.reason,
            "detail": after.detail,
            "old_text": raw,
            "part_texts": texts,
            "new_text": text,
            "parts_ms": ms,
        }
        out.append(record)
        print(json.dumps(record, ensure_ascii=False), flush=True)
    write_records(args.out, out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
