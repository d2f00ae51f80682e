"""The embedder's two backends: sentence-transformers on PyTorch, and the same model's ONNX
export on onnxruntime (the default). They must give the same vectors and the same tokens,
so an index built by one is searched correctly by the other; serving on ONNX must not
import PyTorch at all (that is the point of it: start-up and memory)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from app.embedding import SMALL_BATCH, Embedder, get_embedder, onnx_export
from app.embedding.onnx_backend import OnnxEmbedder
from tests.support import ARTICLES, ROOT

MODEL = "bundled:all-MiniLM-L6-v2"


def _corpus_texts() -> list[str]:
    paragraphs = []
    for path in sorted(ARTICLES.iterdir()):
        paragraphs += [p for p in path.read_text(encoding="utf-8").split("\n\n") if p.strip()]
    return paragraphs


@pytest.fixture(scope="module")
def torch_embedder() -> Embedder:
    return get_embedder(MODEL, backend="torch")


def test_onnx_is_the_default_backend(embedder: Embedder) -> None:
    assert embedder.backend == "onnx"


def test_both_backends_give_the_same_vectors(embedder: Embedder, torch_embedder: Embedder) -> None:
    texts = _corpus_texts()
    assert len(texts) > 20
    onnx_vectors, torch_vectors = embedder.embed(texts), torch_embedder.embed(texts)
    assert onnx_vectors.shape == torch_vectors.shape == (len(texts), 384)
    assert np.abs(onnx_vectors - torch_vectors).max() < 1e-5
    query = "Who could download the model weights?"
    assert np.abs(embedder.embed_query(query) - torch_embedder.embed_query(query)).max() < 1e-5
    # the same nearest passage for every text, whichever backend made the vectors
    assert ((onnx_vectors @ torch_vectors.T).argmax(1) == np.arange(len(texts))).all()


def test_both_backends_count_and_split_tokens_alike(
    embedder: Embedder, torch_embedder: Embedder
) -> None:
    texts = _corpus_texts()
    assert embedder.count_tokens(texts) == torch_embedder.count_tokens(texts)
    long_text = " ".join(texts)
    spans = embedder.split_tokens(long_text, 96)
    assert len(spans) > 3
    assert spans == torch_embedder.split_tokens(long_text, 96)


def test_queries_on_one_thread_match_batches_on_all(embedder: Embedder) -> None:
    texts = [f"Llama 2 was trained on {n} trillion tokens of public data." for n in range(8)]
    assert len(texts) > SMALL_BATCH
    batch = embedder.embed(texts)
    one = np.stack([embedder.embed_query(t) for t in texts])
    assert np.allclose(batch, one, atol=1e-5)
    assert isinstance(embedder, OnnxEmbedder)
    assert embedder._query_session.get_session_options().intra_op_num_threads == 1
    batch_threads = embedder._batch_session.get_session_options().intra_op_num_threads
    assert batch_threads == (os.cpu_count() or 1)


def test_the_export_is_made_once_and_records_its_check(tmp_path: Path) -> None:
    first = OnnxEmbedder.load(MODEL, cache_dir=tmp_path)
    meta = json.loads((first.folder / "export.json").read_text())
    assert meta["parity_max_abs"] < onnx_export.PARITY_TOLERANCE
    assert meta["fingerprint"] == onnx_export.model_fingerprint(MODEL)
    stamp = (first.folder / "model.onnx").stat().st_mtime_ns
    again = OnnxEmbedder.load(MODEL, cache_dir=tmp_path)
    assert again.folder == first.folder
    assert (again.folder / "model.onnx").stat().st_mtime_ns == stamp
    assert [p.name for p in tmp_path.iterdir()] == [first.folder.name]  # no leftovers


def test_an_export_that_disagrees_is_refused_and_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(onnx_export, "PARITY_TOLERANCE", 0.0)
    with pytest.raises(RuntimeError, match="RAGQA_EMBED_BACKEND=torch"):
        OnnxEmbedder.load(MODEL, cache_dir=tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_serving_on_onnx_never_imports_torch(demo_index: Path, embedder: Embedder) -> None:
    """A fresh process opens the index, embeds a query and retrieves, as `ragqa serve` does."""
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from app.answer.service import RagService\n"
        "from tests.support import make_settings\n"
        f"settings = make_settings(Path({str(demo_index.parent)!r}))\n"
        "service = RagService(settings)\n"
        "service.open_index()\n"
        "hits, _ = service.retrieve('Who could download the weights?', 4)\n"
        "assert hits, 'nothing retrieved'\n"
        "print(sorted(m for m in ('torch', 'transformers', 'sentence_transformers')"
        " if m in sys.modules))\n"
    )
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "[]"
