"""Benchmarks 1 and 2: what ragqa adds around the model.

For N questions from the evaluation set, a real ``ragqa serve`` subprocess answers through
``/api/ask`` and ``/api/ask/stream``, and this process calls llama-cpp-python directly
(``Llama.create_completion``) on the very same prompt tokens with the same settings. The
prompt is rebuilt here with the functions the service itself uses (``RagService.retrieve``
and ``RagService.build_prompt`` over the same index and model), and checked against the
server's answer: same number of prompt tokens, same sources, same generated text.

Calls are interleaved, ragqa then raw for each question, so noise from other work on the
machine hits both sides alike. KV-cache conditions are the same on both sides: each
``Llama`` is warmed with the same system-prompt warm-up the server does at start, then
both see the same prompts in the same order, so llama.cpp reuses the same common prefix
(the system prompt) on both sides.

1. Service overhead: wall time of ``POST /api/ask`` (client side, HTTP included) against
   ``create_completion(stream=False)``. Target ratio ≤ 1.05.
2. Time to first token: first ``token`` event of ``POST /api/ask/stream`` (client side)
   against the first chunk of ``create_completion(stream=True)`` (prefill plus one sampled
   token). Target ≤ raw + 50 ms.

    .venv/bin/python bench/overhead.py --questions 6
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import contextlib

from bench._common import (  # noqa: E402
    RESULTS,
    ROOT,
    build_index,
    command_line,
    load_average,
    load_questions,
    machine,
    ragqa_server,
    table,
    write_json,
)


def ask_http(client: Any, base: str, question: str) -> tuple[float, dict[str, Any]]:
    t0 = time.perf_counter()
    r = client.post(f"{base}/api/ask", json={"question": question})
    elapsed = time.perf_counter() - t0
    r.raise_for_status()
    return elapsed, r.json()


def stream_http(client: Any, base: str, question: str) -> dict[str, Any]:
    """Client-side time to the first ``token`` event and to the end; the streamed text."""
    t0 = time.perf_counter()
    first: float | None = None
    pieces: list[str] = []
    done: dict[str, Any] = {}
    event = ""
    with client.stream("POST", f"{base}/api/ask/stream", json={"question": question}) as r:
        r.raise_for_status()
        for line in r.iter_lines():
            if line.startswith("event:"):
                event = line[6:].strip()
            elif line.startswith("data:"):
                data = json.loads(line[5:].strip())
                if event == "token":
                    if first is None:
                        first = time.perf_counter() - t0
                    pieces.append(data["text"])
                elif event == "done":
                    done = data
                elif event == "error":
                    raise RuntimeError(f"stream error: {data}")
    return {
        "ttft_s": first,
        "total_s": time.perf_counter() - t0,
        "text": "".join(pieces),
        "done": done,
    }


class Raw:
    """llama-cpp-python called directly, with the settings ``LocalLLM.stream`` uses."""

    def __init__(self, llama: Any, seed: int, temperature: float) -> None:
        self.llama = llama
        self.seed = seed
        self.temperature = temperature

    def _kwargs(self, tokens: list[int], stop: list[str], max_tokens: int) -> dict[str, Any]:
        return {
            "max_tokens": min(max_tokens, self.llama.n_ctx() - len(tokens)),
            "temperature": self.temperature,
            "top_p": 1.0 if self.temperature == 0 else 0.95,
            "repeat_penalty": 1.1,
            "stop": stop or None,
            "seed": self.seed,
        }

    def perf(self) -> dict[str, float]:
        """llama.cpp's own counters for the last call: prompt eval time and tokens."""
        import llama_cpp

        try:
            d = llama_cpp.llama_perf_context(self.llama._ctx.ctx)
            return {"prefill_ms": d.t_p_eval_ms, "prefill_tokens": d.n_p_eval}
        except (AttributeError, TypeError):
            return {}

    def _reset_perf(self) -> None:
        import llama_cpp

        with contextlib.suppress(AttributeError, TypeError):
            llama_cpp.llama_perf_context_reset(self.llama._ctx.ctx)

    def complete(self, tokens: list[int], stop: list[str], max_tokens: int) -> dict[str, Any]:
        self._reset_perf()
        t0 = time.perf_counter()
        out = self.llama.create_completion(
            tokens, stream=False, **self._kwargs(tokens, stop, max_tokens)
        )
        elapsed = time.perf_counter() - t0
        return {
            "total_s": elapsed,
            "text": out["choices"][0]["text"],
            "completion_tokens": out["usage"]["completion_tokens"],
            **self.perf(),
        }

    def stream(self, tokens: list[int], stop: list[str], max_tokens: int) -> dict[str, Any]:
        self._reset_perf()
        t0 = time.perf_counter()
        first: float | None = None
        pieces = []
        for chunk in self.llama.create_completion(
            tokens, stream=True, **self._kwargs(tokens, stop, max_tokens)
        ):
            piece = chunk["choices"][0]["text"]
            if piece:
                if first is None:
                    first = time.perf_counter() - t0
                pieces.append(piece)
        return {
            "ttft_s": first,
            "total_s": time.perf_counter() - t0,
            "text": "".join(pieces),
            **self.perf(),
        }


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--questions", type=int, default=6, help="answerable questions from the set")
    ap.add_argument("--index", type=Path, help="existing index (default: build the demo corpus)")
    ap.add_argument("--model", type=Path, help="GGUF (default: as ragqa resolves it)")
    ap.add_argument("--out", type=Path, default=RESULTS / "overhead.json")
    args = ap.parse_args()
    os.chdir(ROOT)  # the server runs here too: both read the same .env, if any

    import httpx

    from app.answer.service import RagService
    from app.api.app import warm_up
    from app.llm import load_llm
    from app.llm.model_files import resolve_model_path
    from app.settings import Settings

    tmp = Path(tempfile.mkdtemp(prefix="ragqa-bench-"))
    index = args.index or build_index(tmp / "index")
    base_settings = Settings(index_dir=index)
    model = args.model or resolve_model_path(base_settings)
    settings = Settings(index_dir=index, model_path=model)
    env = {"RAGQA_MODEL_PATH": str(model)}
    questions = load_questions(args.questions)
    info = machine()
    print(f"model {model.name}, {len(questions)} questions, load {info['load_average_at_start']}")

    rows: list[dict[str, Any]] = []
    with ragqa_server(index, env=env, log_dir=tmp) as server:
        # The same service code, index and model here, to rebuild the exact prompt.
        service = RagService(settings, llm=load_llm(settings))
        service.open_index()
        llm = service.llm
        assert llm is not None
        warm_up(service)  # the same cache state the server starts with
        raw = Raw(llm.llama, settings.seed, settings.temperature)  # type: ignore[attr-defined]
        with httpx.Client(timeout=600) as client:
            # pass 1: /api/ask against a plain completion
            for q in questions:
                t_ragqa, answer = ask_http(client, server.base, q)
                hits, _ = service.retrieve(q, settings.top_k)
                built, prompt = service.build_prompt(llm, q, hits)
                same_prompt = len(prompt.tokens) == answer["timings"]["prompt_tokens"] and [
                    s.text for s in built.sources
                ] == [s["text"] for s in answer["sources"]]
                r = raw.complete(prompt.tokens, prompt.stop, built.max_answer_tokens)
                raw_text = r["text"].strip()
                same_output = (llm.count_tokens(raw_text) if raw_text else 0) == answer["timings"][
                    "completion_tokens"
                ]
                rows.append(
                    {
                        "question": q,
                        "prompt_tokens": len(prompt.tokens),
                        "completion_tokens": r["completion_tokens"],
                        "ragqa_ask_s": t_ragqa,
                        "raw_s": r["total_s"],
                        "ratio": t_ragqa / r["total_s"],
                        "server_retrieval_ms": answer["timings"]["retrieval_ms"],
                        "server_generation_ms": answer["timings"]["generation_ms"],
                        "raw_prefill_ms_llama_perf": r.get("prefill_ms"),
                        "same_prompt": same_prompt,
                        "same_output": same_output,
                    }
                )
                print(
                    f"ask   {t_ragqa:7.2f} s  raw {r['total_s']:7.2f} s  ratio "
                    f"{t_ragqa / r['total_s']:.3f}  {len(prompt.tokens)} tok  "
                    f"same prompt {same_prompt} output {same_output}",
                    flush=True,
                )
            # pass 2: time to first token, /api/ask/stream against a streamed completion
            for q, row in zip(questions, rows, strict=True):
                s = stream_http(client, server.base, q)
                hits, _ = service.retrieve(q, settings.top_k)
                built, prompt = service.build_prompt(llm, q, hits)
                r = raw.stream(prompt.tokens, prompt.stop, built.max_answer_tokens)
                row.update(
                    {
                        "ragqa_ttft_s": s["ttft_s"],
                        "ragqa_stream_total_s": s["total_s"],
                        "raw_ttft_s": r["ttft_s"],
                        "raw_stream_total_s": r["total_s"],
                        "ttft_gap_ms": (s["ttft_s"] - r["ttft_s"]) * 1000
                        if s["ttft_s"] is not None and r["ttft_s"] is not None
                        else None,
                        "server_ttft_ms": s["done"].get("timings", {}).get("ttft_ms"),
                        "stream_retrieval_ms": s["done"].get("timings", {}).get("retrieval_ms"),
                        "raw_stream_prefill_ms_llama_perf": r.get("prefill_ms"),
                        "raw_stream_prefill_tokens": r.get("prefill_tokens"),
                        "same_stream_text": s["text"] == r["text"],
                    }
                )
                print(
                    f"ttft  ragqa {s['ttft_s'] * 1000:7.0f} ms  raw {r['ttft_s'] * 1000:7.0f} ms  "
                    f"gap {row['ttft_gap_ms']:+6.0f} ms  same text {row['same_stream_text']}",
                    flush=True,
                )

    ratio_sum = sum(r["ragqa_ask_s"] for r in rows) / sum(r["raw_s"] for r in rows)
    gaps = [r["ttft_gap_ms"] for r in rows if r["ttft_gap_ms"] is not None]
    summary = {
        "questions": len(rows),
        "ratio_total": ratio_sum,
        "ratio_median": statistics.median(r["ratio"] for r in rows),
        "ratio_max": max(r["ratio"] for r in rows),
        "ragqa_ask_mean_s": statistics.mean(r["ragqa_ask_s"] for r in rows),
        "raw_mean_s": statistics.mean(r["raw_s"] for r in rows),
        "ttft_gap_median_ms": statistics.median(gaps) if gaps else None,
        "ttft_gap_max_ms": max(gaps) if gaps else None,
        "ragqa_ttft_median_ms": statistics.median(r["ragqa_ttft_s"] * 1000 for r in rows),
        "raw_ttft_median_ms": statistics.median(r["raw_ttft_s"] * 1000 for r in rows),
        "prompt_tokens_mean": statistics.mean(r["prompt_tokens"] for r in rows),
        "all_same_prompt": all(r["same_prompt"] for r in rows),
        "all_same_output": all(r["same_output"] and r["same_stream_text"] for r in rows),
        "target_ratio": 1.05,
        "target_ttft_gap_ms": 50,
    }
    print()
    print(
        table(
            [
                "question",
                "prompt tok",
                "ask s",
                "raw s",
                "ratio",
                "ttft ms",
                "raw ttft ms",
                "gap ms",
            ],
            [
                [
                    r["question"][:40],
                    r["prompt_tokens"],
                    r["ragqa_ask_s"],
                    r["raw_s"],
                    r["ratio"],
                    r["ragqa_ttft_s"] * 1000,
                    r["raw_ttft_s"] * 1000,
                    r["ttft_gap_ms"],
                ]
                for r in rows
            ],
        )
    )
    print()
    print(
        f"ratio /api/ask ÷ raw: {ratio_sum:.3f} over all ({summary['ratio_median']:.3f} median, "
        f"{summary['ratio_max']:.3f} worst; target ≤ 1.05)\n"
        f"time to first token: ragqa − raw = {summary['ttft_gap_median_ms']:+.0f} ms median, "
        f"{summary['ttft_gap_max_ms']:+.0f} ms worst (target ≤ +50 ms)\n"
        f"same prompt on both sides: {summary['all_same_prompt']}; same output: "
        f"{summary['all_same_output']}; load average now {load_average()}"
    )
    write_json(
        args.out,
        {
            "benchmark": "overhead",
            "command": command_line(),
            "machine": info,
            "model": model.name,
            "settings": settings.model_dump(
                mode="json",
                include={
                    "n_ctx",
                    "n_threads",
                    "n_batch",
                    "max_tokens",
                    "temperature",
                    "seed",
                    "top_k",
                },
            ),
            "n_threads_effective": llm.n_threads,  # type: ignore[attr-defined]
            "summary": summary,
            "rows": rows,
        },
    )


if __name__ == "__main__":
    main()
