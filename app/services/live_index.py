"""The live index: which snapshot answers questions now, and its retrieval pipeline.

Readers take :attr:`LiveIndex.retrieval` once per question and use that snapshot
throughout; a write (ingest, upload, delete) swaps in a new pipeline atomically.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

from app.answer.builder import retrieval_pipeline
from app.embedding import Embedder
from app.errors import IndexMissing
from app.ingest.pipeline import IngestReport, ingest_paths
from app.retrieval.base import RetrievalPipeline
from app.settings import Settings
from app.vectorstore.snapshot import Snapshot
from app.vectorstore.store import IndexStore

log = logging.getLogger(__name__)

PipelineFactory = Callable[[Settings, Snapshot, Embedder], RetrievalPipeline]


class LiveIndex:
    def __init__(
        self,
        settings: Settings,
        embedder: Embedder,
        build_retrieval: PipelineFactory = retrieval_pipeline,
    ) -> None:
        self.settings = settings
        self.embedder = embedder
        self.store = IndexStore(settings.index_dir)
        self._build = build_retrieval
        self._lock = threading.Lock()
        self._retrieval: RetrievalPipeline | None = None

    def open(self, build_from: Path | None = None) -> Snapshot:
        """Load the index; if there is none and ``build_from`` is given, ingest it first."""
        if not self.store.exists() and build_from is not None:
            log.info("no index in %s: ingesting %s", self.store.root, build_from)
            self.ingest([build_from])
        else:
            self.replace(self.store.load(self.embedder.name, self.embedder.dim))
        return self.snapshot

    def replace(self, snap: Snapshot) -> None:
        retrieval = self._build(self.settings, snap, self.embedder)
        with self._lock:
            self._retrieval = retrieval

    def ingest(
        self, paths: Sequence[Path], rebuild: bool = False, progress: bool = False
    ) -> IngestReport:
        report = ingest_paths(
            paths, self.store, self.embedder, self.settings, rebuild=rebuild, progress=progress
        )
        assert report.snapshot is not None
        self.replace(report.snapshot)
        return report

    @property
    def retrieval(self) -> RetrievalPipeline:
        r = self._retrieval
        if r is None:
            raise IndexMissing(
                f"no index is loaded from {self.store.root} (GET /health says why). Build it: "
                f"ragqa ingest data/articles --index {self.store.root} --rebuild"
            )
        return r

    @property
    def current(self) -> RetrievalPipeline | None:
        """The pipeline in use, or None before an index is loaded."""
        return self._retrieval

    @property
    def snapshot(self) -> Snapshot:
        return self.retrieval.snapshot

    @property
    def loaded(self) -> bool:
        return self._retrieval is not None
