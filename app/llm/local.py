"""The in-process LLM: llama-cpp-python over a GGUF file.

ragqa renders the chat prompt itself (with the GGUF's own Jinja template, or a named
llama-cpp-python chat format such as ``llama-2``), tokenises it once, counts it against
the context window and hands the tokens to ``create_completion``. So the exact prompt a
model receives is known, testable and measurable.

A llama.cpp context is not thread-safe: callers serialise generation (see
``app.answer.gate``). Tokenising is read-only and safe.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

from app.errors import Cancelled, GenerationTimeout, ModelUnavailable
from app.llm.base import Message, RenderedPrompt, SecondChoice
from app.llm.chat_format import model_formatter
from app.llm.token_scores import TokenScore, TokenScorer

log = logging.getLogger(__name__)


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
        repeat_penalty: float = 1.0,
    ) -> None:
        from llama_cpp import Llama

        from app.llm.cpu_variant import load_cpu_variant

        self.path = Path(path)
        self.name = self.path.name
        self.n_threads = n_threads or physical_cores()
        self.seed = seed
        self.repeat_penalty = repeat_penalty
        try:
            load_cpu_variant()
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
        self.n_ctx = self.llama.n_ctx()
        template = self.llama.metadata.get("tokenizer.chat_template")
        self.chat_format = chat_format or ("gguf" if template else "llama-2")
        self._formatter = model_formatter(self.llama, chat_format)
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

    def warm(self, prompt: RenderedPrompt, cache_dir: Path | None = None) -> str:
        """Put ``prompt`` (the fixed prefix) in the KV cache: restored from ``cache_dir``
        when an earlier start saved it (:mod:`app.llm.prefix_cache`), else computed, and
        then saved there. Returns ``"restored"`` or ``"computed"``."""
        from app.llm import prefix_cache

        path = None
        if cache_dir is not None:
            tokens = hashlib.sha256(repr(prompt.tokens).encode()).hexdigest()
            path = prefix_cache.state_file(self.llama, self.path, cache_dir, tokens)
            with self._state_lock:
                if prefix_cache.restore(self.llama, path):
                    return "restored"
        for _ in self.stream(prompt, max_tokens=1):
            pass
        if path is not None:
            with self._state_lock:
                prefix_cache.save(self.llama, path)
        return "computed"

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
        return self._stream(prompt, max_tokens, temperature, cancel, deadline, None)

    def stream_scored(
        self,
        prompt: RenderedPrompt,
        scores: list[TokenScore],
        *,
        max_tokens: int,
        temperature: float = 0.0,
        cancel: threading.Event | None = None,
        deadline: float | None = None,
    ) -> Iterator[str]:
        """As :meth:`stream`; when it ends, ``scores`` holds each generated token with the
        probability the model gave it (:mod:`app.llm.token_scores`)."""
        return self._stream(prompt, max_tokens, temperature, cancel, deadline, scores)

    def _stream(
        self,
        prompt: RenderedPrompt,
        max_tokens: int,
        temperature: float,
        cancel: threading.Event | None,
        deadline: float | None,
        scores: list[TokenScore] | None,
    ) -> Iterator[str]:
        max_tokens = min(max_tokens, self.n_ctx - len(prompt.tokens))
        if max_tokens < 1:
            raise ValueError("prompt leaves no room to answer")  # the prompt builder prevents it
        scorer = None
        if scores is not None:
            import numpy as np
            from llama_cpp import StoppingCriteriaList

            llama = self.llama
            scorer = TokenScorer(
                lambda: np.ctypeslib.as_array(llama._ctx.get_logits(), shape=(llama.n_vocab(),)),
                self._detok,
                len(prompt.tokens),
            )
        with self._state_lock:
            chunks = self.llama.create_completion(
                prompt.tokens,
                stopping_criteria=None if scorer is None else StoppingCriteriaList([scorer]),
                max_tokens=max_tokens,
                temperature=temperature,
                top_p=1.0 if temperature == 0 else 0.95,
                repeat_penalty=self.repeat_penalty,
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
                if scorer is not None and scores is not None:
                    scores[:] = scorer.finish()

    # --- reconsidering ------------------------------------------------------------------
    def second_choice(
        self, prompt: RenderedPrompt, text: str, *, words: int = 2
    ) -> SecondChoice | None:
        """Evaluate ``text``'s first ``words`` words after ``prompt`` one token at a time
        (the prompt stays in the KV cache: only its last token is evaluated again) and
        return the least likely of those tokens, with the model's best other token there.
        The caller must hold the generation gate."""
        import numpy as np

        tokens = self.tokenize(text)
        if not tokens or not prompt.tokens:
            return None
        k = next(
            (i for i in range(1, len(tokens) + 1) if len(self._detok(tokens[:i]).split()) >= words),
            len(tokens),
        )
        llama, n = self.llama, len(prompt.tokens)
        with self._state_lock:
            if llama.n_tokens >= n and list(llama.input_ids[:n]) == prompt.tokens:
                llama.n_tokens = n - 1
                llama.eval(prompt.tokens[-1:])
            else:
                llama.reset()
                llama.eval(prompt.tokens)
            least: tuple[float, int, int] | None = None
            for i, token in enumerate(tokens[:k]):
                logits = np.ctypeslib.as_array(llama._ctx.get_logits(), shape=(llama.n_vocab(),))
                p = np.exp(logits.astype(np.float64) - float(logits.max()))
                p /= p.sum()
                mine = float(p[token])
                p[token] = -1.0  # the best *other* token
                if least is None or mine < least[0]:
                    least = (mine, i, int(p.argmax()))
                llama.eval([token])
        assert least is not None
        probability, i, other = least
        opening = tokens[:i] + [other]
        return SecondChoice(round(probability, 4), opening, self._detok(opening))

    def _detok(self, tokens: list[int]) -> str:
        return self.llama.detokenize(tokens).decode("utf-8", errors="replace")
