"""Probe: ask the model again, over only the sentences most about the question, when the
claim check withholds its first answer; then check the second answer the same way.

A second chance could recover answers the model got wrong among five passages. Run on
development sets only (the held-out set must not shape a rule). For every row of a
finished run withheld by ``not_stated``, the sources become the ``--top`` sentences with
the largest share of the question's subject words (each with the sentence before it),
numbered as sources; the prompt is otherwise ragqa's own (system prompt, worked examples).
Prints one JSON line per question: before, after, whether the second answer is right.

    python scripts/probe_retry.py docs/eval/dev2-agent data/dev2/questions.jsonl \\
        --index /tmp/idx-dev2 > docs/eval/probe-retry/dev2.jsonl
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.answer import reading, verify  # noqa: E402
from app.answer.prompt import SourcePassage, build_messages  # noqa: E402
from app.answer.service import RagService  # noqa: E402
from app.evaluation.dataset import load_questions  # noqa: E402
from app.evaluation.runner import InProcessBackend, score_item  # noqa: E402
from app.llm import load_llm  # noqa: E402
from app.settings import Settings  # noqa: E402


def focused_sources(
    passages: list[verify.Passage], candidates: list[Any], top: int
) -> list[SourcePassage]:
    """The ``top`` sentences most about the question (subject share), each with the one before."""
    by_number = {p.number: p for p in passages}
    seen: set[str] = set()
    out: list[SourcePassage] = []
    for c in sorted(candidates, key=lambda c: -c[5]):
        sentence = c[0]
        if sentence.text in seen or len(sentence.text) < 15:
            continue
        seen.add(sentence.text)
        p = by_number[sentence.source]
        sents = reading.split_sentences(p.number, p.text)
        i = next(k for k, s in enumerate(sents) if s.start == sentence.start)
        text = f"{sents[i - 1].text} {sentence.text}" if i > 0 else sentence.text
        out.append(
            SourcePassage(len(out) + 1, p.title.split(" (published")[0], p.heading or None, text)
        )
        if len(out) == top:
            break
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("run", type=Path)
    ap.add_argument("questions", type=Path)
    ap.add_argument("--index", type=Path, required=True)
    ap.add_argument("--top", type=int, default=6)
    args = ap.parse_args()
    settings = Settings(index_dir=args.index)
    llm = load_llm(settings)
    service = RagService(settings, llm=llm)
    service.open_index()
    backend = InProcessBackend(service)
    questions = {q.id: q for q in load_questions(args.questions)}
    seen: dict[str, Any] = {}
    original = verify._candidates

    def spy(passages: Any, *rest: Any) -> Any:
        seen["passages"], seen["candidates"] = passages, original(passages, *rest)
        return seen["candidates"]

    verify._candidates = spy  # type: ignore[assignment]
    for line in (args.run / "results.jsonl").read_text("utf-8").splitlines():
        row = json.loads(line)
        if row["reason"] != "not_stated" or not row.get("model_text"):
            continue
        seen.clear()
        service.check_text(row["question"], row["model_text"])
        if "candidates" not in seen:
            continue
        sources = focused_sources(seen["passages"], seen["candidates"], args.top)
        prompt = llm.render(build_messages(row["question"], sources, examples=service.examples))
        start = time.perf_counter()
        raw = "".join(llm.stream(prompt, max_tokens=settings.max_tokens))
        seconds = time.perf_counter() - start
        again = service.check_text(row["question"], raw)
        scored = score_item(questions[row["id"]], again.model_dump(), [], backend.document_text)
        print(json.dumps({
            "id": row["id"], "trap": not questions[row["id"]].answers,
            "after": again.reason, "right": scored.get("accuracy"),
            "prompt_tokens": len(prompt.tokens), "seconds": round(seconds, 1),
            "model_text": raw,
        }), flush=True)  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
