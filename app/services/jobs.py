"""Upload jobs: a large upload is indexed in the background.

An upload larger than ``RAGQA_ASYNC_UPLOAD_MB`` is checked (name, type, size), queued,
and answered at once with ``202`` and a job; one worker thread indexes queued uploads in
order through :meth:`DocumentService.add_document`. ``GET /api/jobs/{id}`` reports the
state (``queued``, ``running``, ``done``, ``failed``), chunks embedded so far of the
total, the document when done and the error when failed.

Questions are answered from the previous index meanwhile: the new version is switched in
only when complete (:class:`app.services.live_index.LiveIndex`), and embedding goes one
batch at a time so a question waits for one batch at most.

Each job's state is a small JSON file in ``<index_dir>/jobs/``, so it outlives the
process: a job that was queued or running when the server stopped is reported ``failed``
("interrupted by a restart") by the next server. Its upload is not resumed (the bytes
were only in memory); nothing of it reached the index, whose versions switch atomically.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import threading
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

from app.errors import RagqaError
from app.ingest.loaders import check_content
from app.services.documents import DocumentService

log = logging.getLogger(__name__)

JobState = Literal["queued", "running", "done", "failed"]
INTERRUPTED = (
    "interrupted: the server stopped before this upload was indexed; nothing of it is in "
    "the index. Upload the file again"
)
KEEP_JOBS = 200  # finished job files kept; older ones are removed
PROGRESS_EVERY = 0.5  # seconds between progress writes to the job file


@dataclass
class Job:
    job_id: str
    filename: str
    size: int
    state: JobState = "queued"
    chunks_done: int = 0
    chunks_total: int | None = None
    error: str | None = None
    doc_id: str | None = None
    duplicate: bool = False
    created_at: float = 0.0
    updated_at: float = 0.0


class JobService:
    def __init__(self, documents: DocumentService, folder: Path | None = None) -> None:
        self.documents = documents
        self.folder = folder or documents.settings.index_dir / "jobs"
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()
        self._queue: queue.Queue[tuple[Job, bytes]] = queue.Queue()
        self._worker: threading.Thread | None = None
        self._recover()

    # --- state on disk ------------------------------------------------------------------
    def _path(self, job_id: str) -> Path:
        return self.folder / f"{job_id}.json"

    def _save(self, job: Job) -> None:
        job.updated_at = time.time()
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            tmp = self.folder / f".{job.job_id}.{uuid.uuid4().hex[:6]}.tmp"
            tmp.write_text(json.dumps(asdict(job)), encoding="utf-8")
            os.replace(tmp, self._path(job.job_id))
        except OSError as exc:  # the job goes on; only its record after a restart is lost
            log.warning("could not record upload job %s: %s", job.job_id, exc)

    def _recover(self) -> None:
        """Load earlier jobs; those a stopped server left queued or running have failed."""
        if not self.folder.is_dir():
            return
        for p in sorted(self.folder.glob("*.json"), key=lambda p: p.stat().st_mtime):
            try:
                job = Job(**json.loads(p.read_text(encoding="utf-8")))
            except (OSError, ValueError, TypeError):
                continue
            if job.state in ("queued", "running"):
                job.state, job.error = "failed", INTERRUPTED
                self._save(job)
            self._jobs[job.job_id] = job
        finished = [j for j in self._jobs.values() if j.state in ("done", "failed")]
        for job in finished[:-KEEP_JOBS]:
            self._jobs.pop(job.job_id, None)
            self._path(job.job_id).unlink(missing_ok=True)

    # --- the API ------------------------------------------------------------------------
    def submit(self, filename: str, data: bytes) -> Job:
        """Check the upload and queue it; the refusals of a small upload come at once."""
        safe = self.documents.check_upload(filename, data)
        check_content(data, Path(safe))  # a binary under a text name: 415 now, not a job
        job = Job(uuid.uuid4().hex, safe, len(data), created_at=time.time())
        with self._lock:
            self._jobs[job.job_id] = job
            self._save(job)
            self._queue.put((job, data))
            if self._worker is None or not self._worker.is_alive():
                # a daemon: a server that stops does not wait for an upload (the job is
                # then reported failed by the next one)
                self._worker = threading.Thread(
                    target=self._work, name="ragqa-upload-jobs", daemon=True
                )
                self._worker.start()
        return job

    def get(self, job_id: str) -> Job | None:
        with self._lock:
            job = self._jobs.get(job_id)
            return Job(**asdict(job)) if job is not None else None

    # --- the worker ---------------------------------------------------------------------
    def _work(self) -> None:
        while True:
            try:
                job, data = self._queue.get(timeout=5)
            except queue.Empty:
                with self._lock:
                    if self._queue.empty():
                        self._worker = None
                        return
                continue
            self._run(job, data)

    def _run(self, job: Job, data: bytes) -> None:
        with self._lock:
            job.state = "running"
            self._save(job)
        last = 0.0

        def progress(done: int, total: int) -> None:
            nonlocal last
            with self._lock:
                job.chunks_done, job.chunks_total = done, total
                now = time.monotonic()
                if now - last >= PROGRESS_EVERY or done == total:
                    last = now
                    self._save(job)

        try:
            info = self.documents.add_document(job.filename, data, on_progress=progress)
        except RagqaError as exc:
            self._finish(job, "failed", error=exc.message)
        except Exception as exc:  # never let the worker die with the job marked running
            log.exception("upload job %s failed", job.job_id)
            self._finish(job, "failed", error=f"internal error ({type(exc).__name__})")
        else:
            self._finish(job, "done", doc_id=info.doc_id, duplicate=info.duplicate)

    def _finish(
        self,
        job: Job,
        state: JobState,
        *,
        error: str | None = None,
        doc_id: str | None = None,
        duplicate: bool = False,
    ) -> None:
        with self._lock:
            job.state, job.error, job.doc_id, job.duplicate = state, error, doc_id, duplicate
            if state == "done" and job.chunks_total is None:  # nothing was embedded
                job.chunks_total = job.chunks_done
            self._save(job)
