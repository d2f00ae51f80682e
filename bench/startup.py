"""Benchmarks 6 and 7: start-up time and memory of the serving process.

Spawns the real ``ragqa serve`` over an existing index (the demo corpus, built before the
clock starts) with the model ragqa resolves (the bundled default unless ``--model``),
polls ``/health`` every 20 ms until it answers 200, then asks one question through
``/api/ask/stream``. Figures, each from the spawn:

- ready: ``/health`` 200 (index loaded, model loaded and warmed; target < 5 s);
- first token and full answer of the first question;
- the server's own breakdown (embedder, index, model, warm-up) from its log line;
- peak RSS of the server (VmHWM, sampled every 50 ms) and how much of it is the model
  file (``RssFile``) and the rest (``RssAnon``: Python, torch, embedder, index, KV cache,
  llama.cpp buffers). Target: model file size + at most 700 MB.

The 7B estimate: the measured overhead beyond the model file, with this model's KV cache
replaced by a 7B Llama's (32 layers × 4096 × 2 (K and V) × 2 bytes per token at f16).
Run twice with ``--n-ctx`` to check the KV-cache term against measurement.

    .venv/bin/python bench/startup.py --runs 3
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import (  # noqa: E402
    RESULTS,
    RssSampler,
    build_index,
    command_line,
    load_average,
    load_questions,
    machine,
    proc_status,
    ragqa_server,
    table,
    wait_ready,
    write_json,
)

# TheBloke/Llama-2-7B-Chat-GGUF llama-2-7b-chat.Q4_K_M.gguf, the reference model
# scripts/download_model.py fetches: 4.08 GB as listed on its model page (rounded there).
LLAMA2_7B_Q4_K_M_BYTES = 4_080_000_000
LLAMA2_7B = {"layers": 32, "kv_dim": 4096}


def kv_bytes(layers: int, kv_dim: int, n_ctx: int, bytes_per: int = 2) -> int:
    """K and V, f16, for every position of the context."""
    return 2 * layers * kv_dim * n_ctx * bytes_per


def model_kv_shape(path: Path) -> dict[str, int]:
    """Layers and K/V width of a GGUF, from its metadata (no weights loaded)."""
    from llama_cpp import Llama

    from app.llm.cpu_variant import load_cpu_variant

    load_cpu_variant()
    llama = Llama(model_path=str(path), vocab_only=True, verbose=False)
    meta = llama.metadata
    arch = meta.get("general.architecture", "llama")
    layers = int(meta[f"{arch}.block_count"])
    embd = int(meta[f"{arch}.embedding_length"])
    heads = int(meta[f"{arch}.attention.head_count"])
    kv_heads = int(meta.get(f"{arch}.attention.head_count_kv", heads))
    return {"layers": layers, "kv_dim": embd // heads * kv_heads}


def first_answer(base: str, question: str) -> dict[str, Any]:
    import httpx

    t0 = time.perf_counter()
    first = None
    done: dict[str, Any] = {}
    event = ""
    with (
        httpx.Client(timeout=600) as client,
        client.stream("POST", f"{base}/api/ask/stream", json={"question": question}) as r,
    ):
        r.raise_for_status()
        for line in r.iter_lines():
            if line.startswith("event:"):
                event = line[6:].strip()
            elif line.startswith("data:"):
                if event == "token" and first is None:
                    first = time.perf_counter()
                elif event == "done":
                    done = json.loads(line[5:])
    return {"t0": t0, "first_token": first, "end": time.perf_counter(), "done": done}


def one_run(index: Path, env: dict[str, str], question: str, log_dir: Path) -> dict[str, Any]:
    with ragqa_server(index, env=env, log_dir=log_dir, wait=False) as server:
        with RssSampler(server.pid) as rss:
            ready = wait_ready(server)
            status_ready = proc_status(server.pid)
            a = first_answer(server.base, question)
            status_end = proc_status(server.pid)
        breakdown = next((line for _, line in server.lines if "service ready in" in line), "")
        uvicorn_up = server.first_line("Application startup complete")
    return {
        "ready_s": ready,
        "uvicorn_up_s": uvicorn_up,
        "first_token_s": (a["first_token"] - server.started) if a["first_token"] else None,
        "first_answer_s": a["end"] - server.started,
        "answer_after_ready_s": a["end"] - a["t0"],
        "ttft_after_ready_s": (a["first_token"] - a["t0"]) if a["first_token"] else None,
        "server_timings": a["done"].get("timings", {}),
        "breakdown": breakdown.split("service ready in", 1)[-1].strip(),
        "prefix": next((line for _, line in server.lines if "prompt prefix" in line), ""),
        "rss_ready_bytes": status_ready.get("VmRSS", 0),
        "peak_rss_bytes": max(rss.peak, status_end.get("VmHWM", 0)),
        "rss_file_bytes": status_end.get("RssFile", 0),
        "rss_anon_bytes": status_end.get("RssAnon", 0),
    }


def summarise(
    n_ctx: int, backend: str, runs: list[dict[str, Any]], model_bytes: int, shape: dict[str, int]
) -> dict[str, Any]:
    kv = kv_bytes(shape["layers"], shape["kv_dim"], n_ctx)
    peak = max(r["peak_rss_bytes"] for r in runs)
    overhead = peak - model_bytes
    kv7 = kv_bytes(LLAMA2_7B["layers"], LLAMA2_7B["kv_dim"], n_ctx)
    est7 = LLAMA2_7B_Q4_K_M_BYTES + overhead - kv + kv7
    return {
        "n_ctx": n_ctx,
        "embed_backend": backend,
        "runs": runs,
        "ready_median_s": statistics.median(r["ready_s"] for r in runs),
        "ready_max_s": max(r["ready_s"] for r in runs),
        "first_token_median_s": statistics.median(r["first_token_s"] for r in runs),
        "first_answer_median_s": statistics.median(r["first_answer_s"] for r in runs),
        "peak_rss_bytes": peak,
        "model_file_bytes": model_bytes,
        "overhead_bytes": overhead,
        "kv_cache_bytes": kv,
        "overhead_without_kv_bytes": overhead - kv,
        "llama2_7b": {
            "file_bytes": LLAMA2_7B_Q4_K_M_BYTES,
            "kv_cache_bytes": kv7,
            "estimated_peak_rss_bytes": est7,
            "estimated_overhead_bytes": est7 - LLAMA2_7B_Q4_K_M_BYTES,
        },
    }


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--index", type=Path, help="existing index (default: build the demo corpus)")
    ap.add_argument("--model", type=Path, help="GGUF (default: as ragqa resolves it)")
    ap.add_argument("--n-ctx", type=int, nargs="+", default=[4096], help="RAGQA_N_CTX values")
    ap.add_argument(
        "--embed-backend",
        nargs="+",
        default=["onnx"],
        choices=["onnx", "torch"],
        help="RAGQA_EMBED_BACKEND values, run alternately",
    )
    ap.add_argument(
        "--prefix-cache",
        nargs="+",
        default=["true"],
        choices=["true", "false"],
        help="RAGQA_PREFIX_CACHE values, run alternately (the first start with true saves it)",
    )
    ap.add_argument("--out", type=Path, default=RESULTS / "startup.json")
    args = ap.parse_args()

    from app.llm.model_files import resolve_model_path
    from app.settings import Settings

    tmp = Path(tempfile.mkdtemp(prefix="ragqa-bench-"))
    index = args.index or build_index(tmp / "index")
    model = args.model or resolve_model_path(Settings(index_dir=index))
    model_bytes = model.stat().st_size
    shape = model_kv_shape(model)
    question = load_questions(1)[0]
    info = machine()
    print(
        f"model {model.name} ({model_bytes / 1e6:.0f} MB, {shape['layers']} layers, K/V width "
        f"{shape['kv_dim']}); index {index}; load {info['load_average_at_start']}",
        flush=True,
    )
    # the model file is read once before timing, so every run starts from the page cache
    with open(model, "rb") as f:
        while f.read(64 << 20):
            pass

    configs = [(n, b, p) for n in args.n_ctx for b in args.embed_backend for p in args.prefix_cache]
    runs: dict[tuple[int, str, str], list[dict[str, Any]]] = {c: [] for c in configs}
    for i in range(args.runs):
        for n_ctx, backend, prefix in configs:  # alternately: drift in the machine hits all
            env = {
                "RAGQA_MODEL_PATH": str(model),
                "RAGQA_N_CTX": str(n_ctx),
                "RAGQA_EMBED_BACKEND": backend,
                "RAGQA_PREFIX_CACHE": prefix,
            }
            r = one_run(index, env, question, tmp)
            runs[(n_ctx, backend, prefix)].append(r)
            print(
                f"n_ctx {n_ctx} {backend} prefix cache {prefix} run {i + 1}: "
                f"ready {r['ready_s']:.2f} s "
                f"({r['breakdown']}); first token {r['first_token_s']:.2f} s, answer "
                f"{r['first_answer_s']:.2f} s; peak RSS {r['peak_rss_bytes'] / 1e6:.0f} MB",
                flush=True,
            )
    results = [
        {**summarise(n, b, runs[(n, b, p)], model_bytes, shape), "prefix_cache": p}
        for n, b, p in configs
    ]

    print()
    print(
        table(
            [
                "n_ctx",
                "embedder",
                "prefix cache",
                "ready s",
                "first token s",
                "first answer s",
                "peak RSS MB",
                "file MB",
                "overhead MB",
                "of it KV MB",
                "7B est. MB",
                "7B overhead MB",
            ],
            [
                [
                    r["n_ctx"],
                    r["embed_backend"],
                    r["prefix_cache"],
                    r["ready_median_s"],
                    r["first_token_median_s"],
                    r["first_answer_median_s"],
                    r["peak_rss_bytes"] / 1e6,
                    r["model_file_bytes"] / 1e6,
                    r["overhead_bytes"] / 1e6,
                    r["kv_cache_bytes"] / 1e6,
                    r["llama2_7b"]["estimated_peak_rss_bytes"] / 1e6,
                    r["llama2_7b"]["estimated_overhead_bytes"] / 1e6,
                ]
                for r in results
            ],
        )
    )
    print(f"\ntargets: ready < 5 s; peak RSS ≤ model file + 700 MB; load now {load_average()}")
    write_json(
        args.out,
        {
            "benchmark": "startup_memory",
            "command": command_line(),
            "machine": info,
            "model": model.name,
            "model_kv_shape": shape,
            "question": question,
            "results": results,
        },
    )


if __name__ == "__main__":
    main()
