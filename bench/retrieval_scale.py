"""Benchmark 5: vector search at scale, exact (IndexFlatIP) against approximate (HNSW).

At each size (default 10k, 50k, 100k, 1M normalised 384-dimensional vectors, the
embedder's dimension) this builds both FAISS indexes the way ``app/vectorstore/faiss_index.py``
does (``build_faiss``: HNSW with the store's M, efConstruction and efSearch), then issues
single queries one at a time through ``faiss_index.search_one``, the service's own search call
(one OpenMP thread), and for comparison through ``index.search`` with FAISS's default
threads (what ragqa did before). Figures: build time, p50/p99 query latency, recall@10
of HNSW against the exact top 10, and an efSearch sweep on the built graph.

Data (``--data``):

- ``real`` (with ``--real INDEX_DIR``): the embeddings of a real ragqa index (the Python
  docs from bench/ingest.py: 38k chunks); held-out chunks are the queries; sizes beyond
  the corpus are filled with noisy copies of random real chunks, keeping its topics;
- ``mixture``: a Gaussian mixture of topics on the unit sphere, fresh samples as queries;
- ``uniform``: uniformly random directions, the hardest case for HNSW and unlike text.

The printed mean top-1 and top-10 similarities show how each compares with the real index.

    .venv/bin/python bench/ingest.py --workdir /tmp/pydocs --keep
    .venv/bin/python bench/retrieval_scale.py --data real --real /tmp/pydocs/index
    .venv/bin/python bench/retrieval_scale.py --data uniform --sizes 100000
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import (  # noqa: E402
    RESULTS,
    command_line,
    load_average,
    machine,
    percentile,
    self_peak_rss,
    table,
    write_json,
)

DIM = 384
K = 10


def normalise(x: np.ndarray) -> np.ndarray:
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return x


def mixture(
    n: int, n_topics: int, spread: float, rng: np.random.Generator, centres: np.ndarray
) -> np.ndarray:
    """``n`` unit vectors around random topic centres (cosine to the centre ≈ 1/√(1+s²))."""
    out = np.empty((n, DIM), dtype=np.float32)
    step = 100_000
    for i in range(0, n, step):
        m = min(step, n - i)
        topic = rng.integers(0, n_topics, size=m)
        noise = rng.standard_normal((m, DIM), dtype=np.float32) * (spread / np.sqrt(DIM))
        out[i : i + m] = normalise(centres[topic] + noise)
    return out


def real_embeddings(index_dir: Path) -> np.ndarray:
    return np.load(sorted(index_dir.glob("v-*/embeddings.npy"))[-1])


def make_data(
    kind: str,
    n: int,
    n_queries: int,
    seed: int,
    topic_size: int,
    spread: float,
    real: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    if kind == "uniform":
        base = normalise(rng.standard_normal((n, DIM), dtype=np.float32))
        queries = normalise(rng.standard_normal((n_queries, DIM), dtype=np.float32))
        return base, queries
    if kind == "real":
        # held-out real chunks are the queries; the real chunks are the base, grown beyond
        # the corpus by copies of random real chunks with noise (cosine to the original
        # about 1/sqrt(1+spread^2)), so larger sizes keep the real topic structure
        assert real is not None
        order = np.random.default_rng(seed).permutation(len(real))
        queries = np.ascontiguousarray(real[order[:n_queries]])
        seeds = real[order[n_queries:]]
        if n <= len(seeds):
            return np.ascontiguousarray(seeds[rng.permutation(len(seeds))[:n]]), queries
        extra = np.empty((n - len(seeds), DIM), dtype=np.float32)
        step = 100_000
        for i in range(0, len(extra), step):
            m = min(step, len(extra) - i)
            pick = seeds[rng.integers(0, len(seeds), size=m)]
            noise = rng.standard_normal((m, DIM), dtype=np.float32) * (spread / np.sqrt(DIM))
            extra[i : i + m] = normalise(pick + noise)
        return np.ascontiguousarray(np.concatenate([seeds, extra])), queries
    n_topics = max(1, n // topic_size)
    centres = normalise(rng.standard_normal((n_topics, DIM), dtype=np.float32))
    return (
        mixture(n, n_topics, spread, rng, centres),
        mixture(n_queries, n_topics, spread, rng, centres),
    )


def neighbour_stats(base: np.ndarray, queries: np.ndarray) -> dict[str, float]:
    import faiss

    index = faiss.IndexFlatIP(DIM)
    index.add(base)
    scores, _ = index.search(queries, K)
    return {"top1_cosine": float(scores[:, 0].mean()), "top10_cosine": float(scores[:, -1].mean())}


def real_stats(index_dir: Path, n_queries: int, seed: int) -> dict[str, Any]:
    """The same statistics for a real ragqa index: held-out chunks as queries."""
    emb = real_embeddings(index_dir)
    rng = np.random.default_rng(seed)
    pick = rng.permutation(len(emb))
    q, b = emb[pick[:n_queries]], emb[pick[n_queries:]]
    return {"n": int(len(b)), **neighbour_stats(np.ascontiguousarray(b), np.ascontiguousarray(q))}


def time_queries(
    index: Any, queries: np.ndarray, k: int = K, service_path: bool = True
) -> tuple[list[float], np.ndarray]:
    """One query at a time; latencies in ms and the ids found.

    ``service_path``: through ``faiss_index.search_one`` (what the service calls: one OpenMP
    thread); otherwise ``index.search`` with FAISS's default threads (ragqa before it).
    """
    from app.vectorstore.faiss_index import search_one

    lat = []
    ids = np.empty((len(queries), k), dtype=np.int64)
    for i in range(len(queries)):
        q = queries[i]
        t0 = time.perf_counter()
        if service_path:
            _, found = search_one(index, q, k)
        else:
            found = index.search(q.reshape(1, -1), k)[1][0]
        lat.append((time.perf_counter() - t0) * 1000)
        ids[i] = found
    return lat, ids


def recall(found: np.ndarray, truth: np.ndarray) -> float:
    hits = sum(len(set(f.tolist()) & set(t.tolist())) for f, t in zip(found, truth, strict=True))
    return hits / truth.size


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 50_000, 100_000, 1_000_000])
    ap.add_argument("--queries", type=int, default=500, help="single queries timed per index")
    ap.add_argument(
        "--data",
        choices=["mixture", "uniform", "real"],
        default="mixture",
        help="real: the embeddings of --real INDEX_DIR, grown with noisy copies",
    )
    ap.add_argument("--topic-size", type=int, default=200, help="mixture: vectors per topic")
    ap.add_argument(
        "--spread", type=float, help="noise: around a topic (mixture, 1.0), a copy (real, 0.5)"
    )
    ap.add_argument(
        "--hnsw",
        nargs="+",
        default=None,
        metavar="M,EFC",
        help="HNSW M,efConstruction pairs to build (default: the store's)",
    )
    ap.add_argument("--ef-search", type=int, nargs="+", default=[16, 32, 64, 128, 256])
    ap.add_argument("--real", type=Path, help="a ragqa index whose statistics to print")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=RESULTS / "retrieval_scale.json")
    args = ap.parse_args()

    import faiss

    from app.vectorstore import faiss_index

    configs = (
        [tuple(int(v) for v in c.split(",")) for c in args.hnsw]
        if args.hnsw
        else [(faiss_index.HNSW_M, faiss_index.HNSW_EF_CONSTRUCTION)]
    )
    info = machine()
    info["faiss"] = faiss.__version__
    info["faiss_omp_threads"] = faiss.omp_get_max_threads()
    print(
        f"faiss {faiss.__version__}, {faiss.omp_get_max_threads()} OpenMP threads; store: "
        f"M={faiss_index.HNSW_M} efConstruction={faiss_index.HNSW_EF_CONSTRUCTION} "
        f"efSearch={faiss_index.HNSW_EF_SEARCH}, ann_threshold default 50000; load "
        f"{info['load_average_at_start']}",
        flush=True,
    )
    if args.data == "real" and not args.real:
        ap.error("--data real needs --real INDEX_DIR")
    if args.spread is None:
        args.spread = 0.5 if args.data == "real" else 1.0
    real_vectors = real_embeddings(args.real) if args.real else None
    real = real_stats(args.real, 200, args.seed) if args.real else None
    if real:
        print(f"real index {args.real}: {real}")

    results: list[dict[str, Any]] = []
    for n in args.sizes:
        t0 = time.perf_counter()
        base, queries = make_data(
            args.data, n, args.queries, args.seed, args.topic_size, args.spread, real_vectors
        )
        gen_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        flat = faiss_index.build_faiss(base, DIM, ann_threshold=0)  # exact, as below the threshold
        flat_build = time.perf_counter() - t0
        _, truth = flat.search(queries, K)  # batched ground truth
        scores, _ = flat.search(queries[:200], K)
        stats = {
            "top1_cosine": float(scores[:, 0].mean()),
            "top10_cosine": float(scores[:, -1].mean()),
        }
        flat_lat, flat_ids = time_queries(flat, queries)
        flat_lat_default, _ = time_queries(flat, queries, service_path=False)
        row: dict[str, Any] = {
            "n": n,
            "data": args.data,
            "generate_s": gen_s,
            "neighbours": stats,
            "flat": {
                "build_s": flat_build,
                "p50_ms": percentile(flat_lat, 50),
                "p99_ms": percentile(flat_lat, 99),
                "recall_at_10": recall(flat_ids, truth),
                "default_threads_p50_ms": percentile(flat_lat_default, 50),
                "default_threads_p99_ms": percentile(flat_lat_default, 99),
            },
            "hnsw": [],
        }
        print(
            f"\n{n:>9,} vectors ({args.data}; mean top-1 cosine {stats['top1_cosine']:.3f}, "
            f"10th {stats['top10_cosine']:.3f})\n  flat: build {flat_build:.2f} s, p50 "
            f"{row['flat']['p50_ms']:.2f} ms, p99 {row['flat']['p99_ms']:.2f} ms (FAISS default "
            f"threads: p50 {row['flat']['default_threads_p50_ms']:.2f} ms, p99 "
            f"{row['flat']['default_threads_p99_ms']:.2f} ms)",
            flush=True,
        )
        del flat
        gc.collect()
        for m, efc in configs:
            index = faiss.IndexHNSWFlat(DIM, m, faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efConstruction = efc
            t0 = time.perf_counter()
            index.add(base)
            build = time.perf_counter() - t0
            sweep = []
            index.hnsw.efSearch = faiss_index.HNSW_EF_SEARCH
            lat_default, _ = time_queries(index, queries, service_path=False)
            for ef in args.ef_search:
                index.hnsw.efSearch = ef
                lat, ids = time_queries(index, queries)
                sweep.append(
                    {
                        "ef_search": ef,
                        "p50_ms": percentile(lat, 50),
                        "p99_ms": percentile(lat, 99),
                        "recall_at_10": recall(ids, truth),
                    }
                )
                print(
                    f"  hnsw M={m} efC={efc} (build {build:.1f} s) efSearch={ef}: p50 "
                    f"{sweep[-1]['p50_ms']:.3f} ms, p99 {sweep[-1]['p99_ms']:.3f} ms, "
                    f"recall@10 {sweep[-1]['recall_at_10']:.3f}",
                    flush=True,
                )
            row["hnsw"].append(
                {
                    "M": m,
                    "ef_construction": efc,
                    "build_s": build,
                    "sweep": sweep,
                    "default_threads_ef_search": faiss_index.HNSW_EF_SEARCH,
                    "default_threads_p50_ms": percentile(lat_default, 50),
                    "default_threads_p99_ms": percentile(lat_default, 99),
                }
            )
            del index
            gc.collect()
        results.append(row)
        del base, queries
        gc.collect()

    print()
    rows = []
    for r in results:
        rows.append(
            [
                f"{r['n']:,}",
                "flat (exact)",
                "",
                r["flat"]["build_s"],
                r["flat"]["p50_ms"],
                r["flat"]["p99_ms"],
                r["flat"]["recall_at_10"],
                r["flat"]["default_threads_p50_ms"],
            ]
        )
        for h in r["hnsw"]:
            for s in h["sweep"]:
                rows.append(
                    [
                        f"{r['n']:,}",
                        f"HNSW M={h['M']} efC={h['ef_construction']}",
                        s["ef_search"],
                        h["build_s"],
                        s["p50_ms"],
                        s["p99_ms"],
                        s["recall_at_10"],
                        h["default_threads_p50_ms"]
                        if s["ef_search"] == h["default_threads_ef_search"]
                        else "",
                    ]
                )
    headers = ["vectors", "index", "efSearch", "build s", "p50 ms", "p99 ms", "recall@10"]
    print(table([*headers, "p50 ms, FAISS default threads"], rows))
    print(
        f"\npeak RSS of this process {self_peak_rss() / 1e9:.2f} GB; load average now {load_average()}"
    )
    write_json(
        args.out,
        {
            "benchmark": "retrieval_scale",
            "command": command_line(),
            "machine": info,
            "store_params": {
                "M": faiss_index.HNSW_M,
                "ef_construction": faiss_index.HNSW_EF_CONSTRUCTION,
                "ef_search": faiss_index.HNSW_EF_SEARCH,
            },
            "data": {"kind": args.data, "topic_size": args.topic_size, "spread": args.spread},
            "real_index": real,
            "queries": args.queries,
            "results": results,
            "peak_rss_bytes": self_peak_rss(),
        },
    )


if __name__ == "__main__":
    main()
