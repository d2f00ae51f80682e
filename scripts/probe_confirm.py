"""Probe: after an answer, ask the model whether the sources state it, and read P(yes).

Replays a finished eval run (development set only): for each answered question, the same
passages and answer, then one more user turn (:data:`CONFIRM_QUESTION` with ``--variant follow-up``, in the
answer's own conversation; or, the default, :func:`judge_messages`: a fresh conversation
with the cited passages, as in ../shared/notes' probe A);
the model's next-word probability of "yes" against "no" is printed beside whether the
answer was right, and whether the lexical claim check (``app.answer.verify``) states it.

    python scripts/probe_confirm.py docs/eval/default/results.jsonl [--index index] > out.jsonl
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


from collections.abc import Sequence  # noqa: E402

from app.answer.grounding import _MARKER_NUM, _MARKERS  # noqa: E402
from app.answer.verify import Passage  # noqa: E402
from app.llm.base import Message, RenderedPrompt  # noqa: E402
from app.llm.local import LocalLLM  # noqa: E402

CONFIRM_QUESTION = (
    "Check your answer against the numbered sources. Does one of them explicitly state it: "
    "the same figures, names and facts, about the very thing the question asks? "
    "Reply with one word: yes or no."
)


def confirm_messages(messages: Sequence[Message], answer: str) -> list[Message]:
    """The answer's own conversation, then the model's answer and the check question."""
    return [
        *messages,
        {"role": "assistant", "content": answer},
        {"role": "user", "content": CONFIRM_QUESTION},
    ]


JUDGE_SYSTEM = "You check answers against source text. You reply with one word: yes or no."


def judge_messages(question: str, answer: str, passages: Sequence[Passage]) -> list[Message]:
    """A fresh conversation: the passages the answer cites (all of them when it cites
    none), the question and the answer without its markers; does the text state it?"""
    cited = {int(n) for n in _MARKER_NUM.findall(answer)}
    shown = [p for p in passages if p.number in cited] or list(passages)
    text = "\n\n".join(p.text for p in shown)
    claim = _MARKERS.sub("", answer).strip()
    return [
        {"role": "system", "content": JUDGE_SYSTEM},
        {
            "role": "user",
            "content": f"Text:\n{text}\n\nQuestion: {question}\nAnswer: {claim}\n\n"
            "Does the text explicitly state this answer to this question? Reply yes or no.",
        },
    ]


def choice_probabilities(
    llm: LocalLLM, prompt: RenderedPrompt, choices: Sequence[str]
) -> dict[str, float]:
    """One forward pass over ``prompt``; each choice scored by its first token in the
    spellings a model writes it ("yes", "Yes", " yes"), normalised over the choices. The
    prefix already in the KV cache is not decoded again."""
    import numpy as np

    llama = llm.llama
    tokens = prompt.tokens
    cached = llama.input_ids[: llama.n_tokens]
    keep = 0
    for a, b in zip(cached, tokens, strict=False):
        if a != b:
            break
        keep += 1
    llama.n_tokens = min(keep, len(tokens) - 1)  # decode at least one token
    llama.eval(tokens[llama.n_tokens :])
    logits = np.ctypeslib.as_array(llama._ctx.get_logits(), shape=(llama.n_vocab(),))
    probs = np.exp(logits.astype(np.float64) - logits.max())
    probs /= probs.sum()
    mass = {}
    for choice in choices:
        ids = set()
        for spelling in {choice, choice.capitalize(), f" {choice}", f" {choice.capitalize()}"}:
            toks = llama.tokenize(spelling.encode("utf-8"), add_bos=False, special=False)
            if toks:
                ids.add(toks[0])
        mass[choice] = float(sum(probs[i] for i in ids))
    total = sum(mass.values()) or 1.0
    return {c: m / total for c, m in mass.items()}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("results", type=Path)
    ap.add_argument("--index", type=Path, default=None)
    ap.add_argument("--top-k", type=int, default=5)
    ap.add_argument("--variant", choices=["follow-up", "fresh"], default="fresh")
    ap.add_argument(
        "--only-flagged",
        action="store_true",
        help="only answers the lexical check withholds (what arbitration sees)",
    )
    args = ap.parse_args()

    from app.answer.service import RagService
    from app.answer.verify import check_claim
    from app.llm import load_llm
    from app.retrieval.base import Hit
    from app.settings import Settings

    settings = Settings(**({"index_dir": args.index} if args.index else {}))
    llm = load_llm(settings)
    assert isinstance(llm, LocalLLM)
    service = RagService(settings, llm=llm)
    service.open_index()
    snap = service.snapshot
    chunks = {c.chunk_id: c for c in snap.chunks}
    for line in args.results.read_text("utf-8").splitlines():
        row = json.loads(line)
        if not row["answerable_pred"]:
            continue
        hits = [Hit(chunks[r["chunk_id"]], 0.0) for r in row["retrieved"][: args.top_k]]
        built, _ = service.build_prompt(llm, row["question"], hits)
        passages = []
        for s in built.sources:
            passages.append(Passage(s.number, s.title, s.heading or "", s.text))
        lexical = check_claim(row["answer"], row["question"], passages, min_subject=0.2).stated
        if args.only_flagged and lexical:
            continue
        if args.variant == "follow-up":
            messages = confirm_messages(built.messages, row["answer"])
        else:
            messages = judge_messages(row["question"], row["answer"], passages)
        rendered = llm.render(messages)
        t0 = time.perf_counter()
        p = choice_probabilities(llm, rendered, ["yes", "no"])["yes"]
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
                    "p_yes": round(p, 4),
                    "lexical": lexical,
                    "s": round(time.perf_counter() - t0, 1),
                    "answer": row["answer"][:200],
                }
            ),
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
