"""The speed work keeps behaviour intact: these check what the changes promise, not timings
(timings live in bench/, see docs/PERFORMANCE.md)."""

from __future__ import annotations

import logging
from pathlib import Path

import faiss
import numpy as np
import pytest

from app.answer.service import RagService
from app.api.app import build_service
from app.embedding import Embedder
from app.llm.local import LocalLLM
from app.llm.model_files import tiny_model_path
from app.vectorstore.faiss_index import build_faiss, search_one
from tests.support import make_settings


def test_prompt_the_service_reports_is_the_prompt_build_prompt_gives(
    demo_service: RagService,
) -> None:
    """bench/overhead.py times llama.cpp on build_prompt's tokens: they must be the ones
    the service sends."""
    question = "How many tokens was Llama 2 trained on?"
    answer = demo_service.ask(question)
    assert answer.timings.prompt_tokens
    hits, _ = demo_service.retrieve(question, demo_service.settings.top_k)
    assert demo_service.llm is not None
    built, rendered = demo_service.build_prompt(demo_service.llm, question, hits)
    assert len(rendered.tokens) == answer.timings.prompt_tokens
    assert [s.text for s in built.sources] == [s.text for s in answer.sources]
    # the tokens are those of the rendered messages, not of a stale rendering
    assert rendered.tokens == demo_service.llm.render(built.messages).tokens


@pytest.mark.unit
def test_single_query_search_matches_faiss_and_keeps_thread_count() -> None:
    rng = np.random.default_rng(1)
    vectors = rng.standard_normal((3000, 64)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    for threshold in (0, 1000):  # exact, then HNSW
        index = build_faiss(vectors, 64, ann_threshold=threshold)
        before = faiss.omp_get_max_threads()
        for q in vectors[:20]:
            scores, ids = search_one(index, q, 5)
            want_scores, want_ids = index.search(q.reshape(1, -1), 5)
            assert ids.tolist() == want_ids[0].tolist()
            assert np.allclose(scores, want_scores[0])
        assert faiss.omp_get_max_threads() == before  # index builds keep their threads


def test_build_service_loads_model_and_index_side_by_side(
    tmp_path: Path, index_copy: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = make_settings(tmp_path, index_dir=index_copy)
    problems: list[str] = []
    with caplog.at_level(logging.INFO, logger="ragqa"):
        service = build_service(settings, problems)
    assert problems == []
    assert service.index_loaded and service.snapshot.n_chunks > 0
    assert isinstance(service.llm, LocalLLM)
    assert any("service ready in" in r.getMessage() for r in caplog.records)
    # warmed: the fixed system prompt is already in the model's cache
    assert service.llm.llama.n_tokens > 0
    answer = service.ask("How many tokens was Llama 2 trained on?")
    assert answer.sources


def test_build_service_reports_a_missing_model_and_still_loads_the_index(
    tmp_path: Path, index_copy: Path
) -> None:
    settings = make_settings(tmp_path, index_dir=index_copy, model_path=tmp_path / "nope.gguf")
    problems: list[str] = []
    service = build_service(settings, problems)
    assert service.llm is None
    assert service.index_loaded
    assert len(problems) == 1 and "nope.gguf" in problems[0]


def _mappings_of(path: Path) -> int:
    with open("/proc/self/maps", encoding="utf-8") as f:
        return sum(1 for line in f if line.rstrip().endswith(str(path)))


def test_model_is_read_not_mapped_by_default() -> None:
    """Mapped, the file pages llama.cpp repacked from would stay resident beside the copy."""
    path = tiny_model_path()
    before = _mappings_of(path)
    llm = LocalLLM(path, n_ctx=512, n_threads=1)
    assert _mappings_of(path) == before
    out = "".join(llm.stream(llm.render([{"role": "user", "content": "Say hi."}]), max_tokens=4))
    assert out
    mapped = LocalLLM(path, n_ctx=512, n_threads=1, use_mmap=True)  # RAGQA_USE_MMAP=true
    assert _mappings_of(path) > before
    del mapped


def test_reingest_parses_only_files_whose_bytes_changed(
    tmp_path: Path, embedder: Embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An unchanged file is recognised by the hash of its bytes, without parsing it."""
    import shutil

    from app.ingest import pipeline
    from tests.support import ARTICLES

    corpus = tmp_path / "corpus"
    shutil.copytree(ARTICLES, corpus)
    service = RagService(make_settings(tmp_path), embedder=embedder)
    first = service.ingest([corpus])
    assert first.snapshot is not None
    recorded = first.snapshot.manifest["documents"]
    assert all(len(d.get("file_sha256", "")) == 64 for d in recorded.values())

    parsed: list[str] = []
    real_load_file = pipeline.load_file

    def counting_load_file(path: Path, **kw: object) -> object:
        parsed.append(path.name)
        return real_load_file(path, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(pipeline, "load_file", counting_load_file)
    again = service.ingest([corpus])
    assert parsed == [] and len(again.unchanged) == 2 and again.n_chunks_embedded == 0

    launch = corpus / "llama-2-launch.md"
    launch.write_text(launch.read_text() + "\n\nThe launch mascot was an alpaca named Quinoa.\n")
    changed = service.ingest([corpus])
    assert parsed == ["llama-2-launch.md"]
    assert [Path(p).name for p in changed.updated] == ["llama-2-launch.md"]
    assert changed.snapshot is not None
    # the other document's recorded hash survives the write; the changed one is new
    after = changed.snapshot.manifest["documents"]
    assert {k: v["file_sha256"] for k, v in after.items() if "launch" not in v["source"]} == {
        k: v["file_sha256"] for k, v in recorded.items() if "launch" not in v["source"]
    }
    hits = service.retriever.search("What was the launch mascot called?", 3)
    assert "Quinoa" in hits[0].chunk.text


def test_an_index_without_file_hashes_is_reingested_by_content(
    tmp_path: Path, embedder: Embedder
) -> None:
    """Indexes written before file hashes were recorded: every file is parsed and compared
    by content as before; nothing is re-embedded, and the hashes are recorded next time."""
    import json
    import shutil

    from tests.support import ARTICLES

    corpus = tmp_path / "corpus"
    shutil.copytree(ARTICLES, corpus)
    service = RagService(make_settings(tmp_path), embedder=embedder)
    first = service.ingest([corpus])
    assert first.snapshot is not None
    manifest_path = first.snapshot.path / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    for d in manifest["documents"].values():
        del d["file_sha256"]
    manifest_path.write_text(json.dumps(manifest))
    again = service.ingest([corpus])
    assert again.n_chunks_embedded == 0 and len(again.unchanged) == 2
    assert again.snapshot is not None
    assert all(len(d["file_sha256"]) == 64 for d in again.snapshot.manifest["documents"].values())
    assert [c.text for c in again.snapshot.chunks] == [c.text for c in first.snapshot.chunks]
