"""The ``onnx`` backend: a sentence-transformers model's ONNX export, run with onnxruntime.

Imports neither PyTorch nor transformers. Queries run on one thread (a query is too little
work to share, and the other core is usually busy with the LLM); batches of more than
:data:`~app.embedding.SMALL_BATCH` texts run on a second session with a thread per core,
made the first time one is needed, sorted by length so that padding stays short.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from tokenizers import Tokenizer

from app.embedding import SMALL_BATCH, Embedder, plain_tokenizer

DEFAULT_CACHE = Path(os.path.expanduser("~/.cache/ragqa/embedders"))


def _session(path: Path, threads: int) -> Any:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    # Threads that spin while waiting would take the core the LLM is decoding on.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


class OnnxEmbedder(Embedder):
    backend = "onnx"

    def __init__(self, name: str, folder: Path, meta: dict[str, Any], batch_size: int = 64) -> None:
        self.name = name
        self.batch_size = batch_size
        self.folder = folder
        self.dim = int(meta["dim"])
        self.max_seq_length = int(meta["max_seq_length"])
        self._inputs: list[str] = list(meta["input_names"])
        tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self._plain = plain_tokenizer(tokenizer)
        tokenizer.enable_truncation(max_length=self.max_seq_length)
        tokenizer.enable_padding(pad_id=int(meta["pad_id"]), pad_token=str(meta["pad_token"]))
        self._tokenizer = tokenizer
        self._query_session = _session(folder / "model.onnx", 1)
        self._batch_session: Any = None
        self._lock = threading.Lock()

    @classmethod
    def load(cls, name: str, batch_size: int = 64, cache_dir: Path | None = None) -> OnnxEmbedder:
        from app.embedding.onnx_export import export

        folder = export(name, cache_dir or DEFAULT_CACHE)
        meta = json.loads((folder / "export.json").read_text())
        return cls(name, folder, meta, batch_size)

    def _session_for(self, count: int) -> Any:
        if count <= SMALL_BATCH:
            return self._query_session
        with self._lock:
            if self._batch_session is None:
                self._batch_session = _session(self.folder / "model.onnx", os.cpu_count() or 1)
            return self._batch_session

    def _run(self, session: Any, texts: list[str]) -> np.ndarray:
        encodings = self._tokenizer.encode_batch(texts)
        columns = {
            "input_ids": [e.ids for e in encodings],
            "attention_mask": [e.attention_mask for e in encodings],
            "token_type_ids": [e.type_ids for e in encodings],
        }
        feed = {n: np.asarray(columns[n], dtype=np.int64) for n in self._inputs}
        vectors = np.asarray(session.run(None, feed)[0], dtype=np.float32)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.maximum(norms, 1e-12)

    def embed(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        items = list(texts)
        session = self._session_for(len(items))
        order = sorted(range(len(items)), key=lambda i: len(items[i]))  # short padding
        out = np.empty((len(items), self.dim), dtype=np.float32)
        bar = _progress(len(items), progress)
        for start in range(0, len(order), self.batch_size):
            picked = order[start : start + self.batch_size]
            out[picked] = self._run(session, [items[i] for i in picked])
            if bar is not None:
                bar.update(len(picked))
        if bar is not None:
            bar.close()
        return out


def _progress(total: int, show: bool) -> Any:
    if not show:
        return None
    from tqdm import tqdm

    return tqdm(total=total, desc="Embedding", unit="text")
