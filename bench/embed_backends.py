"""The embedder's two backends side by side: same retrieval, and what each costs.

For each question set and its index: the passages every question retrieves (the whole
retrieval pipeline, top 5) with the ONNX backend and with sentence-transformers on PyTorch
(identical lists expected: the vectors agree to about 1e-7), the query-embedding time of
each (p50/p95, one thread, as when serving), and the throughput of embedding the index's
own chunks in batches (as when ingesting). The two backends alternate question by
question. No LLM is loaded.

    python bench/embed_backends.py data/eval/questions.jsonl=/tmp/idx-dev \\
        data/heldout/questions.jsonl=/tmp/idx-heldout
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.answer.service import RagService  # noqa: E402
from app.embedding import Embedder, get_embedder  # noqa: E402
from app.evaluation.dataset import load_questions  # noqa: E402
from app.settings import Settings  # noqa: E402
from bench._common import RESULTS, command_line, machine, percentile, table, write_json  # noqa: E402

BACKENDS = ("onnx", "torch")


def one_set(questions: Path, index: Path, embedders: dict[str, Embedder]) -> dict[str, Any]:
    settings = Settings(_env_file=None, index_dir=index)  # type: ignore[call-arg]
    services = {}
    for name, embedder in embedders.items():
        services[name] = RagService(settings, embedder=embedder)
        services[name].open_index()
    items = load_questions(questions)
    same, query_ms = 0, {n: [] for n in BACKENDS}
    for item in items:
        got = {}
        for name in BACKENDS:
            t0 = time.perf_counter()
            embedders[name].embed_query(item.question)
            query_ms[name].append((time.perf_counter() - t0) * 1000)
            hits, _ = services[name].retrieve(item.question, 5)
            got[name] = [h.chunk.row for h in hits]
        same += got["onnx"] == got["torch"]
    texts = [c.text for c in services["onnx"].snapshot.chunks]
    throughput = {}
    for name in BACKENDS:
        t0 = time.perf_counter()
        embedders[name].embed(texts)
        throughput[name] = len(texts) / (time.perf_counter() - t0)
    return {
        "questions": str(questions),
        "n_questions": len(items),
        "same_top5": same,
        "n_chunks": len(texts),
        "query_ms": {
            n: {"p50": statistics.median(v), "p95": percentile(v, 95)} for n, v in query_ms.items()
        },
        "chunks_per_s": throughput,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("sets", nargs="+", help="QUESTIONS.jsonl=INDEX_DIR")
    ap.add_argument("--out", type=Path, default=RESULTS / "embed-backends.json")
    args = ap.parse_args()
    embedders = {n: get_embedder("bundled:all-MiniLM-L6-v2", backend=n) for n in BACKENDS}  # type: ignore[arg-type]
    embedders["onnx"].embed(["warm", "up", "the", "batch", "session", "now"])
    results = []
    for spec in args.sets:
        questions, index = spec.split("=", 1)
        results.append(one_set(Path(questions), Path(index), embedders))
    rows = [
        [
            Path(r["questions"]).parent.name,
            f"{r['same_top5']}/{r['n_questions']}",
            *(f"{r['query_ms'][n]['p50']:.1f} / {r['query_ms'][n]['p95']:.1f}" for n in BACKENDS),
            r["n_chunks"],
            *(f"{r['chunks_per_s'][n]:.0f}" for n in BACKENDS),
        ]
        for r in results
    ]
    headers = ["set", "same top 5", "query ms onnx", "query ms torch", "chunks"]
    print(table([*headers, "chunks/s onnx", "chunks/s torch"], rows))
    write_json(
        args.out,
        {
            "benchmark": "embed_backends",
            "command": command_line(),
            "machine": machine(),
            "results": results,
        },
    )


if __name__ == "__main__":
    main()
