"""The ``torch`` backend: sentence-transformers itself, on PyTorch."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

import numpy as np

from app.embedding import SMALL_BATCH, Embedder, plain_tokenizer, resolve_embed_model


def load_sentence_transformer(name: str) -> Any:
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(resolve_embed_model(name), device="cpu")


def embedding_dimension(model: Any) -> int:
    get_dim = getattr(model, "get_embedding_dimension", None) or (
        model.get_sentence_embedding_dimension
    )
    dim = get_dim()
    if dim is None:
        raise ValueError("the embedder does not report a dimension")
    return int(dim)


class SentenceTransformerEmbedder(Embedder):
    """Wraps one SentenceTransformer; thread-safe for concurrent ``embed`` calls."""

    backend = "torch"

    def __init__(self, name: str, batch_size: int = 64) -> None:
        import torch

        self.name = name
        self.batch_size = batch_size
        self._model = load_sentence_transformer(name)
        self.dim = embedding_dimension(self._model)
        self.max_seq_length = int(self._model.max_seq_length or 256)
        self._plain = plain_tokenizer(self._model.tokenizer.backend_tokenizer)
        self._lock = threading.Lock()
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
