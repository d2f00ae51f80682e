"""Ingest is incremental and atomic, and refuses an index built with another embedder."""

from __future__ import annotations

import errno
import shutil
from pathlib import Path

import faiss
import pytest

from app.answer.service import RagService
from app.embedding import Embedder
from app.errors import IndexBusy, IndexCorrupt, IndexIncompatible, IndexWriteFailed
from app.vectorstore.store import IndexStore, acquire
from tests.support import ARTICLES, make_settings


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    folder = tmp_path / "corpus"
    shutil.copytree(ARTICLES, folder)
    return folder


def service_for(tmp_path: Path, embedder: Embedder, **kw: object) -> RagService:
    return RagService(make_settings(tmp_path, **kw), embedder=embedder)


def test_first_ingest_indexes_every_document(
    tmp_path: Path, corpus: Path, embedder: Embedder
) -> None:
    report = service_for(tmp_path, embedder).ingest([corpus])
    assert len(report.added) == 2 and not report.skipped
    snap = report.snapshot
    assert snap is not None and snap.n_chunks == report.n_chunks_embedded > 10
    assert snap.faiss_index.ntotal == snap.n_chunks
    manifest = snap.manifest
    assert manifest["embed_model"] == embedder.name and manifest["dim"] == 384
    assert manifest["chunking"] == {"chunk_tokens": 96, "chunk_overlap": 16, "chunker": 2}
    assert {d["content_hash"] for d in manifest["documents"].values()} == {
        d.content_hash for d in snap.documents.values()
    }


def test_reingest_without_changes_embeds_nothing(
    tmp_path: Path, corpus: Path, embedder: Embedder
) -> None:
    svc = service_for(tmp_path, embedder)
    first = svc.ingest([corpus])
    again = svc.ingest([corpus])
    assert again.n_chunks_embedded == 0 and len(again.unchanged) == 2
    assert again.snapshot is not None and first.snapshot is not None
    assert again.snapshot.version == first.snapshot.version  # no new version written


def test_changed_new_and_deleted_documents(
    tmp_path: Path, corpus: Path, embedder: Embedder
) -> None:
    svc = service_for(tmp_path, embedder)
    svc.ingest([corpus])
    launch = corpus / "llama-2-launch.md"
    launch.write_text(
        launch.read_text() + "\n\nThe mascot of the launch was a purple alpaca named Quinoa.\n"
    )
    (corpus / "new.txt").write_text(
        "Vicuna is a chat model fine-tuned from LLaMA by a university team."
    )
    (corpus / "llama-leak-and-open-models.md").unlink()
    report = svc.ingest([corpus])
    assert [Path(p).name for p in report.updated] == ["llama-2-launch.md"]
    assert [Path(p).name for p in report.added] == ["new.txt"]
    assert [Path(p).name for p in report.removed] == ["llama-leak-and-open-models.md"]
    snap = report.snapshot
    assert snap is not None
    names = sorted(Path(d.source).name for d in snap.documents.values())
    assert names == ["llama-2-launch.md", "new.txt"]
    # no stale or duplicate chunks: every chunk belongs to a live document, ids are unique
    assert {c.doc_id for c in snap.chunks} == set(snap.documents)
    assert len({c.chunk_id for c in snap.chunks}) == snap.n_chunks == snap.faiss_index.ntotal
    hits = svc.retriever.search("What was the launch mascot called?", 3)
    assert "Quinoa" in hits[0].chunk.text


def test_a_crash_while_writing_leaves_the_previous_index_usable(
    tmp_path: Path, corpus: Path, embedder: Embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    svc = service_for(tmp_path, embedder)
    before = svc.ingest([corpus]).snapshot
    assert before is not None
    (corpus / "extra.md").write_text("# Extra\n\nAn extra document that never lands.")

    def crash(*args: object, **kwargs: object) -> None:
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(faiss, "serialize_index", crash)
    with pytest.raises(IndexWriteFailed, match="previous index is intact"):
        svc.ingest([corpus])
    monkeypatch.undo()
    after = IndexStore(svc.index.store.root).load(embedder.name, embedder.dim)
    assert after.version == before.version and after.n_chunks == before.n_chunks
    leftovers = [p.name for p in svc.index.store.root.iterdir() if p.name.startswith(".tmp-")]
    assert leftovers == []


def test_an_index_from_another_embedder_is_refused_with_the_fix(
    index_copy: Path, embedder: Embedder
) -> None:
    with pytest.raises(IndexIncompatible) as err:
        IndexStore(index_copy).load("sentence-transformers/all-mpnet-base-v2", 768)
    assert "ragqa ingest" in err.value.message and "--rebuild" in err.value.message


def test_a_damaged_index_file_is_reported_with_the_fix(
    index_copy: Path, embedder: Embedder
) -> None:
    store = IndexStore(index_copy)
    version = store.current_version()
    assert version is not None
    data = (version / "vectors.faiss").read_bytes()
    (version / "vectors.faiss").write_bytes(data[: len(data) // 2])
    with pytest.raises(IndexCorrupt, match="--rebuild"):
        store.load(embedder.name, embedder.dim)


def test_a_second_writer_is_refused_while_one_holds_the_lock(index_copy: Path) -> None:
    store = IndexStore(index_copy)
    held = acquire(store, wait=0)
    try:
        with pytest.raises(IndexBusy, match="another ingest"):
            acquire(store, wait=0.1)
    finally:
        held.release()


def test_changing_the_chunk_size_rechunks_everything(
    tmp_path: Path, corpus: Path, embedder: Embedder
) -> None:
    service_for(tmp_path, embedder).ingest([corpus])
    report = service_for(tmp_path, embedder, chunk_tokens=100, chunk_overlap=20).ingest([corpus])
    assert len(report.updated) == 2
    assert report.snapshot is not None
    assert report.snapshot.manifest["chunking"] == {
        "chunk_tokens": 100,
        "chunk_overlap": 20,
        "chunker": 2,
    }


def test_above_the_threshold_the_index_is_approximate(
    tmp_path: Path, corpus: Path, embedder: Embedder
) -> None:
    report = service_for(tmp_path, embedder, ann_threshold=10).ingest([corpus])
    assert report.snapshot is not None
    assert report.snapshot.manifest["index_type"] == "hnsw"
    assert isinstance(report.snapshot.faiss_index, faiss.IndexHNSWFlat)
