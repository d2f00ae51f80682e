"""Probe: a question that names its subject by a description, answered in two hops.

"Which construction firm built the school where the orchestra's players are to be
musicians in residence?" asks first which school that is. A 1.5B model given both hops at
once often answers the first (the school) or takes a fact about another thing. For each
such question of a finished eval run (:func:`description`), the probe asks the model the
first hop on its own ("Which school is it where …?"), through the whole service, checks
and all. When that answer is shown, the name it adds is the *bridge*: the question is
asked again with the bridge added to the retrieval query and a note after the question
("The school where … is Scarrowby Academy."), and the new answer is checked against the
question as asked. A first hop that is withheld leaves the run's answer as it was.
Nothing in the service changes: this measures whether it is worth building.

    python scripts/probe_hops.py docs/eval/dev3-s33 data/dev3/questions.jsonl \\
        --index /tmp/idx-dev3 --out docs/eval/probe-hops/dev3.json

Tune on development sets only: the held-out sets must not shape a rule.
"""

from __future__ import annotations

import json
import os
import re
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
from app.answer.claims import names_in  # noqa: E402
from app.evaluation.dataset import load_questions  # noqa: E402
from app.evaluation.runner import KS, InProcessBackend, score_item  # noqa: E402
from app.llm.token_scores import TokenScore  # noqa: E402
from app.text.words import UPPER  # noqa: E402

_DESCRIPTION = re.compile(
    r"\bthe ((?:[\w'’-]+ ){0,3}?[\w'’-]+) (that|whose|which|who|where|in which) ([^?,:;]+)"
)
_NAME = re.compile(rf"{UPPER}[\w'’&.-]*(?:\s+(?:of\s+|&\s+)?{UPPER}[\w'’&.-]*)*")

_hop: dict[str, str] = {}  # "query": added to the retrieval query; "note": after the question
_format_user = prompt_module.format_user


def _format_hop(question: str, sources: Any) -> str:
    note = _hop.get("note")
    return _format_user(f"{question} ({note})" if note else question, sources)


prompt_module.format_user = _format_hop


def description(question: str) -> tuple[str, str] | None:
    """The description the question names its subject by, and the first hop's question:
    ("the school where X plays", "Which school is it where X plays?")."""
    m = _DESCRIPTION.search(question)
    if m is None:
        return None
    noun, rel, rest = m.group(1), m.group(2), m.group(3).strip()
    return m.group(0).strip(), f"Which {noun} is it {rel} {rest}?"


def bridge(answer: str, asked: str) -> str | None:
    """The first name the answer adds to the first hop's question."""
    known = names_in(asked)
    for m in _NAME.finditer(answer):
        words = {re.sub(r"['’]s?$", "", w).lower() for w in m.group(0).split()}
        if words - known - {"the", "a", "an", "it", "this", "of"}:
            return re.sub(r"['’]s$", "", m.group(0))
    return None


def main() -> int:
    from app.answer.service import RagService

    args = probe_args()
    service = model_service(args.index)
    backend = InProcessBackend(service)
    plain_query = RagService.retrieval_query
    service.retrieval_query = lambda question, history: (
        f"{plain_query(question, history)} {_hop['query']}"
        if _hop.get("query")
        else plain_query(question, history)
    )
    items = {i.id: i for i in load_questions(args.questions)}
    rows = [json.loads(x) for x in (args.run / "results.jsonl").read_text("utf-8").splitlines()]
    out = []
    for row in rows:
        item = items[row["id"]]
        hop = description(item.question)
        if hop is None:
            continue
        desc, first = hop
        t0 = time.perf_counter()
        first_answer = service.ask(first)
        found = bridge(first_answer.answer, first) if first_answer.answerable else None
        scores = [TokenScore(t["text"], t["probability"]) for t in row.get("model_tokens") or []]
        if found:
            _hop.update(query=found, note=f"{desc[:1].upper()}{desc[1:]} is {found}.")
            try:
                after = service.ask(item.question)
            finally:
                _hop.clear()
        else:
            after = service.check_text(item.question, row.get("model_text") or "", scores)
        ms = round((time.perf_counter() - t0) * 1000)
        before = service.check_text(item.question, row.get("model_text") or "", scores)
        retrieved = backend.retrieve(item.question, max(KS)) if item.answerable else []
        old = score_item(item, before.model_dump(), retrieved, backend.document_text)
        new = score_item(item, after.model_dump(), retrieved, backend.document_text)
        record = {
            "id": item.id,
            "before": outcome(old),
            "after": outcome(new),
            "first_hop": first,
            "first_answer": first_answer.answer,
            "first_reason": first_answer.reason,
            "bridge": found,
            "reason": after.reason,
            "new_text": after.model_text,
            "old_text": row.get("model_text"),
            "hops_ms": ms,
        }
        out.append(record)
        print(json.dumps(record, ensure_ascii=False), flush=True)
    write_records(args.out, out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
