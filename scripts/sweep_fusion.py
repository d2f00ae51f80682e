"""Sweep the reciprocal rank fusion constant (RAGQA_RRF_K) on evidence coverage (no LLM).

For every question set, and each constant, the five sources a question's prompt gets
(dense + BM25 fused with that constant, near-duplicates dropped, the best five kept) are
scored against the set's evidence: **full@5**, the share of answerable questions whose
every evidence passage is among them, overall and by question type, and hit@1. An answer
can only be right when its evidence is in the prompt: on the tuning sets, the bundled
model's own text was right for 88% of the questions whose evidence was all there, and 26%
of the others (docs/EVALUATION.md).

    python scripts/sweep_fusion.py data/dev2 data/dev3 … [--ks 3,5,10,60]
        [--index-root /tmp] [--out bench/results/sweep-fusion.json]

A set is a folder with ``articles/`` and ``questions.jsonl`` (``data/eval`` reads
``data/articles``). Its index is ``<index-root>/idx-<name>`` when that exists, else it is
built in a temporary folder. Frozen held-out sets may be given: only shares per set and
in all are printed, never a question.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from app.answer.service import RagService  # noqa: E402
from app.embedding import Embedder, get_embedder  # noqa: E402
from app.evaluation.dataset import EvalItem, load_questions  # noqa: E402
from app.evaluation.runner import InProcessBackend, retrieval_scores  # noqa: E402
from app.provenance import machine  # noqa: E402
from app.settings import Settings  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
TOP = 5  # the sources a prompt gets (RAGQA_TOP_K)


def _articles(folder: Path) -> Path:
    return ROOT / "data/articles" if folder.name == "eval" else folder / "articles"


def _service(
    folder: Path, index_root: Path | None, work: Path, rrf_k: int, embedder: Embedder
) -> RagService:
    index = index_root / f"idx-{folder.name}" if index_root else None
    if index is None or not index.is_dir():
        index = work / folder.name
    settings = Settings(_env_file=None, index_dir=index, rrf_k=rrf_k)  # type: ignore[call-arg]
    service = RagService(settings, embedder=embedder)
    service.open_index(build_from=None if (index / "CURRENT").exists() else _articles(folder))
    return service


def coverage(service: RagService, items: list[EvalItem]) -> Counter[str]:
    """Counts per question type and in all: questions, full@5 and hit@1."""
    backend = InProcessBackend(service)
    counts: Counter[str] = Counter()
    for item in items:
        scores = retrieval_scores(item, backend.retrieve(item.question, TOP), backend.document_text)
        for group in ("all", item.type):
            counts[f"{group}:n"] += 1
            counts[f"{group}:full"] += scores[f"recall@{TOP}"] > 0.999
            counts[f"{group}:hit1"] += scores["hit@1"] > 0
    return counts


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("sets", nargs="+", type=Path, help="question-set folders, e.g. data/dev2")
    ap.add_argument("--ks", default="3,5,10,20,60", help="RRF constants to try")
    ap.add_argument("--index-root", type=Path, default=None)
    ap.add_argument("--out", type=Path, default=ROOT / "bench/results/sweep-fusion.json")
    args = ap.parse_args()
    ks = [int(k) for k in args.ks.split(",")]
    rows: list[dict[str, Any]] = []
    totals: dict[int, Counter[str]] = {k: Counter() for k in ks}
    defaults = Settings(_env_file=None)  # type: ignore[call-arg]
    embedder = get_embedder(  # loaded once for every set and constant
        defaults.embed_model,
        defaults.embed_batch_size,
        defaults.embed_backend,
        defaults.embed_cache_dir,
    )
    with tempfile.TemporaryDirectory() as tmp:
        for folder in args.sets:
            items = [i for i in load_questions(folder / "questions.jsonl") if i.answerable]
            for k in ks:
                counts = coverage(_service(folder, args.index_root, Path(tmp), k, embedder), items)
                totals[k].update(counts)
                rows.append({"set": folder.name, "rrf_k": k, **_shares(counts)})
                print(f"{folder.name} k={k}: full@5 {rows[-1]['all']['full@5']:.3f}", flush=True)
    print("\n| RRF k | questions | full@5 | factoid | numeric | multi-hop | hit@1 |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    summary = []
    for k in ks:
        s = _shares(totals[k])
        summary.append({"rrf_k": k, **s})
        by = {
            t: s.get(t, {}).get("full@5", float("nan")) for t in ("factoid", "numeric", "multi_hop")
        }
        print(
            f"| {k} | {s['all']['n']} | {s['all']['full@5']:.3f} | {by['factoid']:.3f} | "
            f"{by['numeric']:.3f} | {by['multi_hop']:.3f} | {s['all']['hit@1']:.3f} |"
        )
    result = {"benchmark": "sweep_fusion", "machine": machine(), "summary": summary, "rows": rows}
    args.out.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")


def _shares(counts: Counter[str]) -> dict[str, dict[str, float]]:
    groups = {key.split(":")[0] for key in counts}
    return {
        g: {
            "n": counts[f"{g}:n"],
            "full@5": round(counts[f"{g}:full"] / counts[f"{g}:n"], 4),
            "hit@1": round(counts[f"{g}:hit1"] / counts[f"{g}:n"], 4),
        }
        for g in sorted(groups)
    }


if __name__ == "__main__":
    main()
