"""The in-process LLM: llama-cpp-python over a GGUF file.

ragqa renders the chat prompt itself (with the GGUF's own Jinja template, or a named
llama-cpp-python chat format such as ``llama-2``), tokenises it once, counts it against
the context window and hands the tokens to ``create_completion``. So the exact prompt a
model receives is known, testable and measurable.

A llama.cpp context is not thread-safe: callers serialise generation (see
``app.answer.gate``). Tokenising is read-only and safe.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.errors import Cancelled, GenerationTimeout, ModelUnavailable

log = logging.getLogger(__name__)

Message = dict[str, str]
Formatter = Callable[..., Any]


def physical_cores() -> int:
    """Number of physical cores (hyper-threads share a core's arithmetic units)."""
    try:
        pairs = set()
        phys = core = None
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("physical id"):
                    phys = line.split(":")[1].strip()
                elif line.startswith("core id"):
                    core = line.split(":")[1].strip()
                elif not line.strip() and core is not None:
                    pairs.add((phys, core))
                    phys = core = None
        if core is not None:
            pairs.add((phys, core))
        n = len(pairs)
    except OSError:
        n = 0
    available = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 0
    return max(1, min(x for x in (n, available, os.cpu_count() or 1) if x > 0))


def named_formatter(name: str) -> Formatter:
    """A llama-cpp-python chat formatter by its registered name (``llama-2``, ``chatml``…)."""
    from llama_cpp import llama_chat_format as lcf

    wanted = name.replace("-", "").replace("_", "").lower()
    for attr in dir(lcf):
        if attr.startswith("format_") and attr[7:].replace("_", "").lower() == wanted:
            fn: Formatter = getattr(lcf, attr)
            return fn
    known = sorted(a[7:].replace("_", "-") for a in dir(lcf) if a.startswith("format_"))
    raise ModelUnavailable(
        f"unknown chat format {name!r}; RAGQA_CHAT_FORMAT can be one of: {', '.join(known)}"
    )


@dataclass
class RenderedPrompt:
    text: str
    tokens: list[int]
    stop: list[str]


@dataclass
class Generation:
    text: str
    prompt_tokens: int
    completion_tokens: int
    ttft_ms: float
    generation_ms: float
    finish_reason: str | None


class LocalLLM:
    def __init__(
        self,
        path: Path,
        *,
        n_ctx: int = 4096,
        n_threads: int | None = None,
        n_batch: int = 512,
        use_mmap: bool = False,
        chat_format: str | None = None,
        seed: int = 42,
    ) -> None:
        from llama_cpp import Llama
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        self.path = Path(path)
        self.name = self.path.name
        self.n_threads = n_threads or physical_cores()
        self.seed = seed
        t0 = time.perf_counter()
        try:
            self.llama = Llama(
                model_path=str(self.path),
                n_ctx=n_ctx,
                n_threads=self.n_threads,
                n_threads_batch=self.n_threads,
                n_batch=min(n_batch, n_ctx),
                # Read, not mapped: llama.cpp repacks most weights into a CPU-friendly copy
                # at load, and the mapped pages it read them from would stay in the
                # process's resident memory beside that copy (+0.6 GB for the 1.5B model).
                use_mmap=use_mmap,
                seed=seed,
                verbose=False,
            )
        except (ValueError, RuntimeError, OSError) as exc:
            raise ModelUnavailable(
                f"llama.cpp could not load {self.path} ({exc}). Check the file is a complete "
                "GGUF (download it again) and that RAGQA_N_CTX fits in memory"
            ) from exc
        self.load_seconds = time.perf_counter() - t0
        self.n_ctx = self.llama.n_ctx()
        template = self.llama.metadata.get("tokenizer.chat_template")
        self.chat_format = chat_format or ("gguf" if template else "llama-2")
        self._formatter: Formatter
        if chat_format is None and template:
            eos_id, bos_id = self.llama.token_eos(), self.llama.token_bos()
            get = self.llama._model.token_get_text
            self._formatter = Jinja2ChatFormatter(
                template=template,
                eos_token=get(eos_id) if eos_id != -1 else "",
                bos_token=get(bos_id) if bos_id != -1 else "",
            )
        else:
            self._formatter = named_formatter(self.chat_format)
        self._state_lock = threading.Lock()

    # --- prompt -----------------------------------------------------------------------
    def render(self, messages: Sequence[Message]) -> RenderedPrompt:
        result = self._formatter(messages=list(messages))
        stop = (
            result.stop if isinstance(result.stop, list) else [result.stop] if result.stop else []
        )
        tokens = self.tokenize(result.prompt, add_bos=not result.added_special)
        return RenderedPrompt(result.prompt, tokens, [s for s in stop if s])

    def tokenize(self, text: str, add_bos: bool = False) -> list[int]:
        return list(self.llama.tokenize(text.encode("utf-8"), add_bos=add_bos, special=True))

    def count_tokens(self, text: str) -> int:
        return len(self.llama.tokenize(text.encode("utf-8"), add_bos=False, special=False))

    # --- generation ---------------------------------------------------------------------
    def stream(
        self,
        prompt: RenderedPrompt,
        *,
        max_tokens: int,
        temperature: float = 0.0,
        cancel: threading.Event | None = None,
        deadline: float | None = None,
    ) -> Iterator[str]:
        """Yield text pieces. The caller must hold the generation gate."""
        max_tokens = min(max_tokens, self.n_ctx - len(prompt.tokens))
        if max_tokens < 1:
            raise ValueError("prompt leaves no room to answer")  # the prompt builder prevents it
        with self._state_lock:
            chunks = self.llama.create_completion(
                prompt.tokens,
                max_tokens=max_tokens,
                temperature=temperature,
                top_p=1.0 if temperature == 0 else 0.95,
                repeat_penalty=1.1,
                stop=prompt.stop or None,
                stream=True,
                seed=self.seed,
            )
            try:
                for chunk in chunks:
                    if cancel is not None and cancel.is_set():
                        raise Cancelled("the client cancelled the answer")
                    if deadline is not None and time.monotonic() > deadline:
                        raise GenerationTimeout(
                            "the answer took longer than RAGQA_REQUEST_TIMEOUT allows; "
                            "ask a narrower question or raise the timeout"
                        )
                    piece = chunk["choices"][0]["text"]  # type: ignore[index]
                    if piece:
                        yield piece
            finally:
                close = getattr(chunks, "close", None)
                if close is not None:
                    close()

    def generate(
        self, prompt: RenderedPrompt, *, max_tokens: int, temperature: float = 0.0
    ) -> Generation:
        t0 = time.perf_counter()
        ttft = None
        pieces = []
        for piece in self.stream(prompt, max_tokens=max_tokens, temperature=temperature):
            if ttft is None:
                ttft = (time.perf_counter() - t0) * 1000
            pieces.append(piece)
        text = "".join(pieces)
        return Generation(
            text=text,
            prompt_tokens=len(prompt.tokens),
            completion_tokens=self.count_tokens(text),
            ttft_ms=ttft or 0.0,
            generation_ms=(time.perf_counter() - t0) * 1000,
            finish_reason=None,
        )
