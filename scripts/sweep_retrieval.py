"""Sweep chunking and retrieval settings on retrieval metrics alone (no LLM needed).

    python scripts/sweep_retrieval.py [--questions data/eval/questions.jsonl] [--corpus data/articles]
        [--out bench/results/sweep-retrieval.json]

For each chunk size/overlap it builds a throw-away index, then scores dense-only and
hybrid retrieval: hit@k, recall@k and MRR over the answerable questions, mean tokens per
chunk (what top_k passages cost in the prompt). Prints a Markdown table and writes the rows
with the commit and machine to ``--out``.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from app.answer.service import RagService  # noqa: E402
from app.embedding import get_embedder  # noqa: E402
from app.evaluation.dataset import load_questions  # noqa: E402
from app.evaluation.runner import InProcessBackend, retrieval_scores  # noqa: E402
from app.provenance import machine  # noqa: E402
from app.settings import Settings  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--questions", type=Path, default=ROOT / "data/eval/questions.jsonl")
    ap.add_argument("--corpus", type=Path, default=ROOT / "data/articles")
    ap.add_argument("--sizes", default="96:16,128:24,160:32,192:32,256:48")
    ap.add_argument("--out", type=Path, default=ROOT / "bench/results/sweep-retrieval.json")
    args = ap.parse_args()
    measured_on = machine()
    table: list[dict[str, Any]] = []
    items = [i for i in load_questions(args.questions) if i.answerable]
    embedder = get_embedder("bundled:all-MiniLM-L6-v2")
    print(
        "| chunk tokens | overlap | retrieval | hit@1 | hit@3 | hit@5 | recall@3 | recall@5 | MRR | mean chunk tokens |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for spec in args.sizes.split(","):
        size, overlap = (int(x) for x in spec.split(":"))
        with tempfile.TemporaryDirectory() as tmp:
            for hybrid in (False, True):
                settings = Settings(
                    _env_file=None,
                    index_dir=Path(tmp),
                    chunk_tokens=size,  # type: ignore[call-arg]
                    chunk_overlap=overlap,
                    hybrid=hybrid,
                )
                svc = RagService(settings, embedder=embedder)
                if hybrid:
                    svc.open_index()
                else:
                    svc.ingest([args.corpus])
                backend = InProcessBackend(svc)
                rows = [
                    retrieval_scores(i, backend.retrieve(i.question, 10), backend.document_text)
                    for i in items
                ]
                mean = {k: sum(r[k] for r in rows) / len(rows) for k in rows[0]}
                tokens = sum(c.n_tokens for c in svc.snapshot.chunks) / svc.snapshot.n_chunks
                table.append(
                    {"chunk_tokens": size, "overlap": overlap, "hybrid": hybrid}
                    | {k: round(v, 4) for k, v in mean.items()}
                    | {"mean_chunk_tokens": round(tokens, 1)}
                )
                print(
                    f"| {size} | {overlap} | {'hybrid' if hybrid else 'dense'} | {mean['hit@1']:.3f} | "
                    f"{mean['hit@3']:.3f} | {mean['hit@5']:.3f} | {mean['recall@3']:.3f} | "
                    f"{mean['recall@5']:.3f} | {mean['rr']:.3f} | {tokens:.0f} |",
                    flush=True,
                )
    result = {"benchmark": "sweep_retrieval", "machine": measured_on, "rows": table}
    args.out.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
