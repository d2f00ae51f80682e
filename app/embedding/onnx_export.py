"""Export a sentence-transformers model to ONNX, once, and prove the export agrees with it.

The export runs the model's whole sentence-transformers pipeline (transformer, pooling and
any dense layers) inside one graph, so the runtime only tokenizes, runs the graph and
normalises. It needs PyTorch, sentence-transformers and ``onnx``; serving from the export
needs only onnxruntime and tokenizers. Before an export is kept, probe texts (a query, a
text longer than the model's window, stray whitespace, non-ASCII) are embedded by both and
must agree within :data:`PARITY_TOLERANCE`; the largest difference is written to
``export.json``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
import time
import warnings
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np

from app.embedding import resolve_embed_model

log = logging.getLogger(__name__)

PARITY_TOLERANCE = 1e-4  # largest difference allowed in any normalised vector component
EXPORT_FORMAT = 1
PROBES = (
    "How many tokens was the model trained on?",
    "  leading and trailing whitespace \n",
    "Zürich, São Paulo and Kraków: café prices — 12 % up, £3.50 → £3.92.",
    "",
    " ".join(f"sentence {i} is about ferries, harvests and libraries." for i in range(80)),
)


def model_fingerprint(name: str) -> str:
    """Identifies the model's files: names and sizes, the bytes of small ones, ends of big ones."""
    digest = hashlib.sha256(f"format={EXPORT_FORMAT};".encode())
    folder = Path(resolve_embed_model(name))
    if not folder.is_dir():
        digest.update(name.encode())
        return digest.hexdigest()[:16]
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        size = path.stat().st_size
        digest.update(f"{path.relative_to(folder)}:{size};".encode())
        with path.open("rb") as fh:
            if size <= 4 << 20:
                digest.update(fh.read())
            else:
                digest.update(fh.read(1 << 20))
                fh.seek(-(1 << 20), os.SEEK_END)
                digest.update(fh.read())
    return digest.hexdigest()[:16]


def export_dir_for(name: str, cache_dir: Path) -> Path:
    slug = "".join(c if c.isalnum() or c in "-_." else "-" for c in name.split("/")[-1])
    return cache_dir / f"{slug}-{model_fingerprint(name)}"


def export(name: str, cache_dir: Path) -> Path:
    """The export folder for ``name``, made (and checked) if it does not exist yet."""
    target = export_dir_for(name, cache_dir)
    if (target / "export.json").is_file():
        return target
    cache_dir.mkdir(parents=True, exist_ok=True)
    log.info("exporting embedder %s to ONNX (once; needs PyTorch) in %s", name, target)
    started = time.perf_counter()
    work = Path(tempfile.mkdtemp(prefix=".export-", dir=cache_dir))
    try:
        meta = _export_into(name, work)
        meta["seconds"] = round(time.perf_counter() - started, 2)
        (work / "export.json").write_text(json.dumps(meta, indent=2) + "\n")
        try:
            work.rename(target)
        except OSError:  # another process finished the same export first
            if not (target / "export.json").is_file():
                raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    log.info("embedder exported in %.1f s", time.perf_counter() - started)
    return target


def _export_into(name: str, work: Path) -> dict[str, Any]:
    import torch

    from app.embedding.torch_backend import embedding_dimension, load_sentence_transformer

    st = load_sentence_transformer(name).eval()
    backend = st.tokenizer.backend_tokenizer
    input_names = [n for n in st.tokenizer.model_input_names if n != "position_ids"]
    sample = st.tokenizer(["a probe", "a longer probe text"], padding=True, return_tensors="pt")

    class Pipeline(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.st = st

        def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
            features = dict(zip(input_names, inputs, strict=True))
            return self.st(features)["sentence_embedding"]

    axes = {n: {0: "batch", 1: "tokens"} for n in input_names}
    with torch.inference_mode(), warnings.catch_warnings():
        # the tracer's notes on shape checks it freezes; the parity check below is the proof
        warnings.simplefilter("ignore")
        torch.onnx.export(
            Pipeline(),
            tuple(sample[n] for n in input_names),
            str(work / "model.onnx"),
            input_names=input_names,
            output_names=["sentence_embedding"],
            dynamic_axes={**axes, "sentence_embedding": {0: "batch"}},
            opset_version=17,
            dynamo=False,
        )
    backend.save(str(work / "tokenizer.json"))
    meta: dict[str, Any] = {
        "format": EXPORT_FORMAT,
        "source": name,
        "fingerprint": model_fingerprint(name),
        "dim": int(embedding_dimension(st)),
        "max_seq_length": int(st.max_seq_length or 256),
        "input_names": input_names,
        "pad_id": int(st.tokenizer.pad_token_id or 0),
        "pad_token": str(st.tokenizer.pad_token or "[PAD]"),
        "versions": {
            m: version(m) for m in ("torch", "sentence-transformers", "onnx", "onnxruntime")
        },
    }
    meta["parity_max_abs"] = _check_parity(st, work, meta)
    return meta


def _check_parity(st: Any, work: Path, meta: dict[str, Any]) -> float:
    from app.embedding.onnx_backend import OnnxEmbedder

    onnx = OnnxEmbedder(meta["source"], work, meta, batch_size=8)
    expected = st.encode(
        list(PROBES), normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
    )
    got = onnx.embed(list(PROBES))
    worst = float(np.abs(np.asarray(expected, dtype=np.float32) - got).max())
    if worst > PARITY_TOLERANCE:
        raise RuntimeError(
            f"the ONNX export of {meta['source']} disagrees with sentence-transformers by "
            f"{worst:.2e} (> {PARITY_TOLERANCE:.0e}); use RAGQA_EMBED_BACKEND=torch"
        )
    return worst


def main() -> None:
    """``python -m app.embedding.onnx_export [MODEL]``: make the export ahead of time (set-up
    and the Docker image do), into RAGQA_EMBED_CACHE_DIR."""
    import sys

    from app.settings import Settings

    settings = Settings()
    name = sys.argv[1] if len(sys.argv) > 1 else settings.embed_model
    if name.startswith("bundled:"):
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
    folder = export(name, settings.embed_cache_dir)
    meta = json.loads((folder / "export.json").read_text())
    print(
        f"ragqa: embedder {name} on ONNX in {folder} "
        f"(largest difference from sentence-transformers {meta['parity_max_abs']:.1e})"
    )


if __name__ == "__main__":
    main()
