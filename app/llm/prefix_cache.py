"""The fixed prompt prefix's KV cache, kept on disk so a restart need not compute it again.

At start the server runs the fixed prefix (system prompt, worked examples) through the
model once, so that every question pays only for its own tokens (``warm_llm``). That costs
1.3-1.6 s of the start-up on two cores. The llama.cpp state it leaves (the prefix's KV
cells and its token ids, a few MB) is saved here after the first warm-up and restored at
the next start instead of being recomputed.

Safe by construction: llama-cpp-python compares each new prompt with the token ids the
state holds and evaluates again from the first token that differs, so a stale prefix only
costs time. What must never happen is restoring a state into a different model or context
shape, so the file's name is a hash of the model file (path, size, mtime), the context
size, the batch size, the CPU variant llama.cpp loaded and the llama-cpp-python version. A
file that fails to load is deleted and the prefix computed as before.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger(__name__)


def state_file(llama: Any, model_path: Path, cache_dir: Path, extra: str = "") -> Path:
    from app.llm.cpu_variant import load_cpu_variant

    stat = model_path.stat()
    variant = load_cpu_variant()  # the one already loaded: called once per process

    key = "|".join(
        str(x)
        for x in (
            model_path.resolve(),
            stat.st_size,
            stat.st_mtime_ns,
            llama.n_ctx(),
            llama.n_batch,
            variant.name if variant else "static",
            version("llama-cpp-python"),
            extra,
        )
    )
    return cache_dir / f"prefix-{hashlib.sha256(key.encode()).hexdigest()[:20]}.npz"


def save(llama: Any, path: Path) -> None:
    """Write the context's state (KV cells and token ids) atomically; never raises."""
    try:
        state = llama.save_state()
        n = int(state.n_tokens)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".prefix-", suffix=".npz")
        with os.fdopen(fd, "wb") as fh:
            np.savez(
                fh,
                input_ids=np.asarray(state.input_ids[:n], dtype=np.intc),
                llama_state=np.frombuffer(state.llama_state, dtype=np.uint8),
                seed=np.asarray(state.seed),
            )
        os.replace(tmp, path)
    except Exception as exc:  # a cache that cannot be written only costs the next start
        log.warning("prefix state not saved (%s): the next start computes it again", exc)


def restore(llama: Any, path: Path) -> int:
    """Load a saved prefix into ``llama``; the number of tokens restored, 0 if none."""
    if not path.is_file():
        return 0
    try:
        with np.load(path) as data:
            ids = data["input_ids"]
            raw = data["llama_state"].tobytes()
            seed = int(data["seed"])
        n = len(ids)
        if not 0 < n <= min(llama.n_ctx(), llama.n_batch):
            raise ValueError(f"{n} tokens do not fit this context")
        _set_state(llama, ids, raw, seed)
    except Exception as exc:
        log.warning("saved prefix state %s not used (%s); computing it again", path, exc)
        llama.reset()
        path.unlink(missing_ok=True)
        return 0
    return n


def _set_state(llama: Any, ids: np.ndarray, raw: bytes, seed: int) -> None:
    """``Llama.load_state`` without its logits: it copies a row of scores per restored
    token and compares every other row with zero, 60-120 MB of memory touched for logits
    that are never read. The context is marked as needing a decode before it samples
    (``_requires_eval``, as ``load_state`` does), so the next prompt is evaluated from the
    first token after the shared prefix and no restored logit is ever used. Written for
    llama-cpp-python 0.3.36 (pinned); tests/test_prefix_cache.py checks the answers."""
    import ctypes

    import llama_cpp

    buffer = (ctypes.c_uint8 * len(raw)).from_buffer_copy(raw)
    if llama_cpp.llama_state_set_data(llama._ctx.ctx, buffer, len(raw)) != len(raw):
        raise RuntimeError("llama.cpp refused the saved state")
    input_ids = np.zeros(llama.n_ctx(), dtype=np.intc)
    input_ids[: len(ids)] = ids
    llama.input_ids = input_ids
    llama.n_tokens = len(ids)
    llama._requires_eval = True
    llama._seed = seed
