"""Faults: an ingest killed with SIGKILL, two ingests at once, damaged index and model
files, a full disk. Each must leave an index that opens and answers (the old version or
the new one, never a mix) or fail with an error that names the fix, and the service must
never start half-working without /health saying so.

The ingests under test run in real subprocesses (``python -c DRIVER``: the real embedder,
``RagService.ingest``) and are killed with a real SIGKILL from this process. The driver
prints a line at each stage of an ingest and, for the deterministic kill points, stops at
one stage and waits to be killed; the timed kill points are spread over the measured
duration of an ingest.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.answer.service import RagService
from app.api.app import create_app
from app.embedding import Embedder
from app.errors import IndexBusy, RagqaError, StorageFull
from app.ingest.pipeline import ingest_paths
from app.llm import load_llm
from app.llm.local import LocalLLM
from app.llm.model_files import tiny_model_path
from app.vectorstore.store import IndexStore, acquire
from tests.support import ARTICLES, ROOT, make_settings, running, serve_app

# --- the ingest driver -----------------------------------------------------------------
DRIVER = r"""
import os, sys, time, json
t0 = time.time()

def mark(name):
    print(f"{name} {time.time():.4f}", flush=True)

stop_at = sys.argv[2]

def stage(name):
    mark(name)
    if name == stop_at:
        print("paused", flush=True)
        time.sleep(3600)  # the test kills this process now

import numpy as np
import app.ingest.pipeline as pipeline
import app.vectorstore.store as store
from app.answer.service import RagService
from app.settings import Settings

def around(before, after, fn):
    def wrapped(*a, **kw):
        if before: stage(before)
        out = fn(*a, **kw)
        if after: stage(after)
        return out
    return wrapped

pipeline.embed_documents = around("embedding", "embedded", pipeline.embed_documents)
np.save = around("sqlite-written", "npy-written", np.save)
store._write_faiss = around(None, "faiss-written", store._write_faiss)
fsync = store._fsync_file
def first_fsync(path, _seen=[]):
    if not _seen:
        _seen.append(1)
        stage("manifest-written")
    fsync(path)
store._fsync_file = first_fsync
os.rename = around("fsynced", "renamed", os.rename)
replace = os.replace
def replace_pointer(src, dst, *a, **kw):
    is_pointer = str(dst).endswith("CURRENT")
    if is_pointer: stage("pointer-written")
    replace(src, dst, *a, **kw)
    if is_pointer: stage("switched")
os.replace = replace_pointer
store.IndexStore._collect_garbage = around(
    "collecting", "collected", store.IndexStore._collect_garbage
)

settings = Settings(_env_file=None, index_dir=sys.argv[1])
service = RagService(settings)
mark("loaded")
report = service.ingest([__import__("pathlib").Path(p) for p in sys.argv[3:]])
mark("done")
print("report " + json.dumps({"version": report.snapshot.version,
      "chunks": report.snapshot.n_chunks, "embedded": report.n_chunks_embedded}), flush=True)
"""

STAGES = [
    "embedding",
    "embedded",
    "sqlite-written",
    "npy-written",
    "faiss-written",
    "manifest-written",
    "fsynced",
    "renamed",
    "pointer-written",
    "switched",
    "collecting",
    "collected",
]
# where an ingest is stopped and killed; the state each must leave
KILL_STAGES = {
    "embedded": "old",  # embedded, holding the lock, nothing written
    "sqlite-written": "old",  # new version half written in .tmp-…
    "fsynced": "old",  # complete and fsynced, not yet renamed into place
    "renamed": "old",  # v-… in place, CURRENT still names the old one
    "pointer-written": "old",  # .CURRENT.… written, not yet switched
    "switched": "new",  # CURRENT switched, old version not yet removed
    "collecting": "new",
}
TIMED_FRACTIONS = (0.3, 0.7)  # of the embedding time, plus one during start-up


@dataclass
class Run:
    proc: subprocess.Popen[str]
    lines: queue.Queue[tuple[float, str]] = field(default_factory=queue.Queue)
    marks: dict[str, float] = field(default_factory=dict)
    started: float = field(default_factory=time.time)

    @classmethod
    def start(cls, index: Path, stop_at: str, *roots: Path) -> Run:
        env = {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
        with open(index.parent / f"driver-{stop_at or 'run'}.log", "ab") as log:
            proc = subprocess.Popen(
                [sys.executable, "-c", DRIVER, str(index), stop_at, *map(str, roots)],
                stdout=subprocess.PIPE,
                stderr=log,
                text=True,
                cwd=ROOT,
                env=env,
            )
        run = cls(proc)
        threading.Thread(target=run._read, daemon=True).start()
        return run

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put((time.time(), line.strip()))
        self.lines.put((time.time(), "<eof>"))

    def wait_for(self, wanted: str, timeout: float = 180) -> bool:
        """Read lines until one starts with ``wanted``; False at end of output."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                _, line = self.lines.get(timeout=0.5)
            except queue.Empty:
                continue
            if line == "<eof>":
                return False
            name, _, value = line.partition(" ")
            if name in (*STAGES, "loaded", "done"):
                self.marks[name] = float(value)
            if line.startswith(wanted):
                return True
        raise TimeoutError(f"the ingest driver never printed {wanted!r}")

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)
        while True:  # collect the marks printed before the kill
            try:
                _, line = self.lines.get(timeout=5)
            except queue.Empty:
                break
            if line == "<eof>":
                break
            name, _, value = line.partition(" ")
            if name in (*STAGES, "loaded", "done"):
                self.marks[name] = float(value)

    @property
    def last_stage(self) -> str:
        return max(self.marks, key=lambda k: self.marks[k]) if self.marks else "start-up"


# --- corpora and states -----------------------------------------------------------------
MOONS = ["Io", "Europa", "Ganymede", "Callisto", "Titan", "Enceladus", "Triton", "Phobos"]
FUELS = ["volcanic sulphur", "tidal heat", "methane ice", "deuterium", "brine vents"]
COOPS = ["Jovian Energy Cooperative", "Saturn Grid Union", "Outer Belt Works", "Kuiper Trust"]
COOLANTS = ["liquid nitrogen", "ammonia brine", "night-side ice", "argon gas"]


def write_extras(folder: Path, tag: str, n_docs: int = 6, paragraphs: int = 8) -> Path:
    """Made-up articles about reactors (facts no model knows), about 25 chunks."""
    rng = random.Random(tag)
    folder.mkdir(parents=True, exist_ok=True)
    for d in range(n_docs):
        parts = [f"# The {tag} reactors, part {d}\n"]
        for p in range(paragraphs):
            parts.append(
                f"The {tag}-{d}-{p} reactor on {rng.choice(MOONS)} produces "
                f"{rng.randint(2, 900)} gigawatts from {rng.choice(FUELS)}. It was switched on "
                f"in {rng.randint(2030, 2199)} by the {rng.choice(COOPS)} and is cooled by "
                f"{rng.choice(COOLANTS)}; its crew of {rng.randint(3, 80)} rotates every "
                f"{rng.randint(2, 30)} weeks.\n"
            )
        (folder / f"{tag.lower()}-{d}.md").write_text("\n".join(parts), encoding="utf-8")
    return folder


def state_of(index: Path, embedder: Embedder) -> tuple[str, ...]:
    """What a fresh reader sees: the (document id, content hash) pairs and chunk count."""
    snap = IndexStore(index).load(embedder.name, embedder.dim)
    assert snap.faiss_index.ntotal == snap.n_chunks == snap.embeddings.shape[0]
    docs = sorted(f"{k}:{d.content_hash}:{d.n_chunks}" for k, d in snap.documents.items())
    return (*docs, f"chunks={snap.n_chunks}")


def leftovers(index: Path) -> list[str]:
    """Debris of an interrupted write: half-built versions and unswitched pointers."""
    return sorted(p.name for p in index.iterdir() if p.name.startswith((".tmp-", ".CURRENT.")))


def orphans(index: Path, before: set[str]) -> list[str]:
    """Version folders that neither ``CURRENT`` nor the versions in ``before`` name."""
    current = IndexStore(index).current_version()
    return sorted(
        p.name
        for p in index.iterdir()
        if p.name.startswith("v-") and p.name not in before and current and p != current
    )


def versions(index: Path) -> set[str]:
    return {p.name for p in index.iterdir() if p.name.startswith("v-")}


@dataclass(frozen=True)
class Known:
    old: tuple[str, ...]
    new: tuple[str, ...]
    extras: Path
    extra_ids: frozenset[str]
    marks: dict[str, float]


@pytest.fixture(scope="module")
def known(tmp_path_factory: pytest.TempPathFactory, demo_index: Path, embedder: Embedder) -> Known:
    """The old state (the demo index) and the new one (after an unkilled ingest of the
    extras, timed stage by stage: the calibration for the timed kill points)."""
    tmp = tmp_path_factory.mktemp("faults-known")
    extras = write_extras(tmp / "extras", "Zorblax")
    index = tmp / "index"
    shutil.copytree(demo_index, index)
    old = state_of(index, embedder)
    run = Run.start(index, "", ARTICLES, extras)
    assert run.wait_for("report"), "the calibration ingest failed"
    assert run.proc.wait(timeout=60) == 0
    new = state_of(index, embedder)
    assert new != old and leftovers(index) == []
    assert versions(index) - versions(demo_index)  # a new version, beside the previous one
    snap = IndexStore(index).load()
    extra_ids = frozenset(k for k, d in snap.documents.items() if "extras" in d.source)
    assert len(extra_ids) == 6
    return Known(old, new, extras, extra_ids, dict(run.marks))


def check_index(index: Path, known: Known, embedder: Embedder) -> str:
    """The index opens, is exactly the old or the new version, and retrieval works."""
    state = state_of(index, embedder)
    assert state in (known.old, known.new), "a mix of the old and the new index"
    which = "new" if state == known.new else "old"
    service = RagService(make_settings(index.parent), embedder=embedder)
    service.open_index()
    hits, _ = service.search("How many gigawatts does the Zorblax-2-7 reactor produce?", 3)
    assert hits, "retrieval found nothing"
    assert (hits[0].doc_id in known.extra_ids) == (which == "new")
    llama, _ = service.search("How many tokens was Llama 2 trained on?", 3)
    assert "trillion" in " ".join(h.text for h in llama)
    return which


RESULTS: list[dict[str, Any]] = []


@pytest.fixture(scope="module", autouse=True)
def print_results() -> Iterator[None]:
    yield
    if RESULTS:
        print("\nSIGKILL results:")
        for r in RESULTS:
            print("  " + json.dumps(r))


def killed_copy(tmp: Path, demo_index: Path, name: str) -> Path:
    index = tmp / name / "index"
    shutil.copytree(demo_index, index)
    return index


# --- SIGKILL at 10 points ----------------------------------------------------------------
def test_sigkill_at_every_stage_of_writing_leaves_the_old_or_the_new_index(
    tmp_path: Path, demo_index: Path, embedder: Embedder, known: Known, tiny_llm: LocalLLM
) -> None:
    """Seven deterministic kill points, from "embedded, nothing written" to "switched,
    old version not yet removed": each leaves exactly the expected version."""

    old_versions = versions(demo_index)

    def one(stage: str) -> tuple[str, Path, list[str]]:
        index = killed_copy(tmp_path, demo_index, stage)
        run = Run.start(index, stage, ARTICLES, known.extras)
        assert run.wait_for("paused"), f"the ingest ended before {stage}"
        run.kill()
        assert run.proc.returncode == -signal.SIGKILL
        return stage, index, leftovers(index) + orphans(index, old_versions)

    with ThreadPoolExecutor(max_workers=2) as pool:
        outcomes = list(pool.map(one, KILL_STAGES))
    for stage, index, debris in outcomes:
        which = check_index(index, known, embedder)
        RESULTS.append({"kill": f"at {stage}", "state": which, "debris": debris})
        assert which == KILL_STAGES[stage], (stage, which)

    # a survivor answers, with the tiny model
    index = dict((s, i) for s, i, _ in outcomes)["switched"]
    service = RagService(make_settings(index.parent), embedder=embedder, llm=tiny_llm)
    service.open_index()
    answer = service.ask("How many gigawatts does the Zorblax-2-7 reactor produce?")
    assert answer.answer.strip() and answer.sources
    assert answer.sources[0].doc_id in known.extra_ids

    # the next ingest after a kill completes (no stale lock) and clears the debris; it keeps
    # the version it replaced, as every write does
    for stage, index, debris in outcomes:
        if stage not in ("sqlite-written", "pointer-written"):
            continue
        assert debris, f"a kill at {stage} left no debris to clear"
        service = RagService(make_settings(index.parent), embedder=embedder)
        service.ingest([ARTICLES, known.extras])
        assert state_of(index, embedder) == known.new
        assert leftovers(index) == [] and not set(debris) & versions(index), stage
        assert len(versions(index)) == 2


def test_sigkill_at_timed_points_leaves_the_old_or_the_new_index(
    tmp_path: Path, demo_index: Path, embedder: Embedder, known: Known
) -> None:
    """Three kills at times taken from an ingest measured beforehand: during start-up and
    at 30 % and 70 % of the embedding. (Writing takes milliseconds, too short to hit by
    timing: the deterministic kill points above cover it.)"""
    m = known.marks
    embed = m["embedded"] - m["embedding"]
    # seconds after the driver reports "loaded" (start-up: after spawn, see below)
    points: list[tuple[str, float]] = [("start-up", 1.0)]
    for f in TIMED_FRACTIONS:
        points.append((f"{f:.0%} of embedding", m["embedding"] - m["loaded"] + f * embed))
    states = []
    for label, delay in points:
        # the delays come from an ingest measured beforehand; on a machine whose load
        # changes, this one can run faster and finish first: a kill after "done" tests
        # nothing, so it is tried again earlier (at most three times)
        for attempt in range(3):
            name = f"{label}-{attempt}".replace(" ", "-").replace("%", "")
            index = killed_copy(tmp_path, demo_index, name)
            run = Run.start(index, "", ARTICLES, known.extras)
            if label != "start-up":
                assert run.wait_for("loaded"), "the driver failed to start"
            time.sleep(delay)
            finished = run.proc.poll() is not None
            run.kill()  # and reads the marks the driver printed before it
            finished = finished or run.last_stage == "done"
            if not finished:
                break
            delay /= 2
        which = check_index(index, known, embedder)
        states.append(which)
        RESULTS.append(
            {
                "kill": f"{label} (+{delay:.2f} s, attempt {attempt + 1})",
                "last_stage_reached": run.last_stage,
                "state": which,
                "finished_before_kill": finished,
                "debris": leftovers(index) + orphans(index, versions(demo_index)),
            }
        )
    assert set(states) <= {"old", "new"}
    for result in RESULTS[-len(points) :]:
        # a kill after the ingest finished tests nothing: every one must hit a running ingest
        assert not result["finished_before_kill"], result
        # and leave the state its last stage implies (these points are all before the switch)
        reached = str(result["last_stage_reached"])
        switched = reached in STAGES and STAGES.index(reached) >= STAGES.index("switched")
        assert result["state"] == ("new" if switched else "old"), result


# --- two ingests at once ---------------------------------------------------------------
def test_two_ingests_at_once_take_turns_and_both_land(
    tmp_path: Path, demo_index: Path, embedder: Embedder
) -> None:
    """Started together on one index, the second waits for the writer lock; both sets of
    documents are in the final index, nothing else changed, no debris."""
    index = killed_copy(tmp_path, demo_index, "both")
    a = write_extras(tmp_path / "a", "Alpha", n_docs=2, paragraphs=5)
    b = write_extras(tmp_path / "b", "Bravo", n_docs=2, paragraphs=5)
    old = IndexStore(index).load()
    runs = [Run.start(index, "", a), Run.start(index, "", b)]
    for run in runs:
        assert run.wait_for("report"), "an ingest failed"
        assert run.proc.wait(timeout=60) == 0
    first, second = sorted(runs, key=lambda r: r.marks["embedding"])
    assert second.marks["embedding"] >= first.marks["collected"]  # took turns
    snap = IndexStore(index).load(embedder.name, embedder.dim)
    names = {Path(d.source).name for d in snap.documents.values()}
    assert names == {Path(d.source).name for d in old.documents.values()} | {
        "alpha-0.md",
        "alpha-1.md",
        "bravo-0.md",
        "bravo-1.md",
    }
    for doc_id, doc in old.documents.items():
        assert snap.documents[doc_id].content_hash == doc.content_hash
    assert leftovers(index) == []


def test_a_writer_waiting_on_a_live_ingest_is_refused_clearly_and_a_killed_one_frees_the_lock(
    tmp_path: Path, demo_index: Path, embedder: Embedder, known: Known
) -> None:
    index = killed_copy(tmp_path, demo_index, "locked")
    settings = make_settings(index.parent)
    run = Run.start(index, "embedded", ARTICLES, known.extras)  # holds the lock, then waits
    try:
        assert run.wait_for("paused")
        with pytest.raises(IndexBusy) as err:
            ingest_paths(
                [ARTICLES, known.extras], IndexStore(index), embedder, settings, lock_wait=0.5
            )
        assert "another ingest is writing" in err.value.message
        assert "try again" in err.value.message
        assert state_of(index, embedder) == known.old
    finally:
        run.kill()
    held = acquire(IndexStore(index), wait=5)  # SIGKILL released the lock with the process
    held.release()


# --- damaged files -----------------------------------------------------------------------
def _version(index: Path) -> Path:
    version = IndexStore(index).current_version()
    assert version is not None
    return version


def _truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _garbage(path: Path) -> None:
    path.write_bytes(random.Random(7).randbytes(path.stat().st_size or 4096))


def _other_embedder(index: Path) -> None:
    manifest = _version(index) / "manifest.json"
    data = json.loads(manifest.read_text())
    data.update(embed_model="sentence-transformers/all-mpnet-base-v2", dim=768)
    manifest.write_text(json.dumps(data))


def _dangling_pointer(index: Path) -> None:
    (index / "CURRENT").write_text("v-20000101T000000-deadbeef")


INDEX_FAULTS = {
    "truncated vectors.faiss": (lambda i: _truncate(_version(i) / "vectors.faiss"), "--rebuild"),
    "garbage chunks.sqlite": (lambda i: _garbage(_version(i) / "chunks.sqlite"), "--rebuild"),
    "truncated embeddings.npy": (
        lambda i: _truncate(_version(i) / "embeddings.npy"),
        "--rebuild",
    ),
    "manifest from another embedder": (_other_embedder, "RAGQA_EMBED_MODEL"),
    "CURRENT names a missing version": (_dangling_pointer, "--rebuild"),
}


def _health_and_ask(settings: Any) -> tuple[httpx.Response, httpx.Response]:
    with serve_app(create_app(settings)) as url, httpx.Client(base_url=url, timeout=120) as c:
        health = c.get("/health")
        ask = c.post("/api/ask", json={"question": "How many tokens was Llama 2 trained on?"})
    return health, ask


def _assert_degraded(health: httpx.Response, ask: httpx.Response, message: str) -> None:
    assert health.status_code == 503, health.text
    body = health.json()
    assert body["status"] == "degraded" and message in body["problems"], body
    assert ask.status_code == 503, ask.text
    err = ask.json()["error"]
    assert set(err) == {"code", "message", "status"} and err["status"] == 503
    assert "/health" in err["message"] or err["code"] == "model_unavailable", err


@pytest.mark.parametrize("fault", list(INDEX_FAULTS))
def test_a_damaged_index_is_reported_with_the_fix_and_health_says_so(
    tmp_path: Path, demo_index: Path, embedder: Embedder, fault: str
) -> None:
    index = tmp_path / "index"
    shutil.copytree(demo_index, index)
    damage, fix = INDEX_FAULTS[fault]
    damage(index)
    with pytest.raises(RagqaError) as err:
        IndexStore(index).load(embedder.name, embedder.dim)
    assert fix in err.value.message and str(index) in err.value.message
    health, ask = _health_and_ask(make_settings(tmp_path))
    _assert_degraded(health, ask, err.value.message)
    assert health.json()["index_loaded"] is False and health.json()["model_loaded"] is True


def _truncated_gguf(tmp: Path) -> Path:
    path = tmp / "truncated.gguf"
    data = tiny_model_path().read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


def _garbage_gguf(tmp: Path) -> Path:
    path = tmp / "garbage.gguf"
    path.write_bytes(random.Random(3).randbytes(100_000))
    return path


MODEL_FAULTS = {
    "missing GGUF": (lambda t: t / "nowhere.gguf", "Set RAGQA_MODEL_PATH"),
    "truncated GGUF": (_truncated_gguf, "download it again"),
    "not a GGUF": (_garbage_gguf, "Download it again"),
}


@pytest.mark.parametrize("fault", list(MODEL_FAULTS))
def test_a_missing_or_damaged_model_is_reported_with_the_fix_and_health_says_so(
    tmp_path: Path, demo_index: Path, fault: str
) -> None:
    shutil.copytree(demo_index, tmp_path / "index")
    make, fix = MODEL_FAULTS[fault]
    settings = make_settings(tmp_path, model_path=make(tmp_path))
    with pytest.raises(RagqaError) as err:
        load_llm(settings)
    assert fix in err.value.message and str(settings.model_path) in err.value.message
    health, ask = _health_and_ask(settings)
    _assert_degraded(health, ask, err.value.message)
    assert health.json()["index_loaded"] is True and health.json()["model_loaded"] is False


# --- a full disk -------------------------------------------------------------------------
@contextlib.contextmanager
def small_tmpfs(where: Path, size_kb: int) -> Iterator[Path]:
    """Mount a tmpfs of ``size_kb`` at ``where``. Needs root: skipped (an allowlisted skip,
    see tests/conftest.py) when not root; as root a failed mount fails the test."""
    if os.geteuid() != 0:
        pytest.skip("not root: mounting a small tmpfs needs root (CI runs as root)")
    where.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size_kb}k", "tmpfs", str(where)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        pytest.fail(f"running as root, yet could not mount a small tmpfs: {done.stderr.strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", str(where)], check=False)
        if os.path.ismount(where):
            subprocess.run(["umount", "-l", str(where)], check=False)


def _size_kb(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) // 1024


def test_a_full_disk_while_writing_fails_clearly_and_keeps_the_old_index(
    tmp_path: Path, demo_index: Path, embedder: Embedder, known: Known, tiny_llm: LocalLLM
) -> None:
    """A tmpfs with room for the old index and little more: an ingest and an upload both
    fail with "the disk is full … Free disk space", the old index is intact and served."""
    with small_tmpfs(tmp_path / "disk", _size_kb(demo_index) + 96) as disk:
        index = disk / "index"
        shutil.copytree(demo_index, index)
        settings = make_settings(disk)
        service = RagService(settings, embedder=embedder, llm=tiny_llm)
        service.open_index()
        with pytest.raises(StorageFull) as err:
            service.ingest([ARTICLES, known.extras])
        assert "disk is full" in err.value.message and "Free disk space" in err.value.message
        assert state_of(index, embedder) == known.old and leftovers(index) == []

        filler = disk / "filler"  # now leave no room at all, not even for the upload
        with contextlib.suppress(OSError), open(filler, "wb") as f:
            while True:
                f.write(b"\0" * 65536)
        with running(service) as server:
            c = server.client
            files = {"file": ("zorblax.md", b"# Zorblax\n\nThe Zorblax reactor is on Io.\n")}
            resp = c.post("/api/documents", files=files)
            assert resp.status_code == 507, resp.text
            assert resp.json()["error"]["code"] == "storage_full"
            assert "Free disk space" in resp.json()["error"]["message"]
            assert c.get("/health").status_code == 200
            assert len(c.get("/api/documents").json()["documents"]) == 2
        assert state_of(index, embedder) == known.old and leftovers(index) == []
        uploads = index / "uploads"
        assert not uploads.exists() or not any(uploads.iterdir())


def test_the_file_size_limit_while_ingesting_fails_clearly_from_the_cli(
    tmp_path: Path, demo_index: Path, embedder: Embedder, known: Known
) -> None:
    """``ragqa ingest`` under RLIMIT_FSIZE (writes fail with EFBIG): exit 2 and a one-line
    error that names the fix, no traceback; the old index is intact."""
    index = tmp_path / "index"
    shutil.copytree(demo_index, index)
    limit = (_version(index) / "chunks.sqlite").stat().st_size  # the new one is larger
    ragqa = Path(sys.executable).parent / "ragqa"
    command = [str(ragqa), "ingest", str(ARTICLES), str(known.extras), "--index", str(index)]
    # SIGXFSZ ignored, so a write past the limit fails with EFBIG instead of killing; both
    # the limit and the ignored signal survive the exec into ragqa
    limited = (
        "import os, resource, signal, sys; signal.signal(signal.SIGXFSZ, signal.SIG_IGN); "
        f"resource.setrlimit(resource.RLIMIT_FSIZE, ({limit}, {limit})); "
        "os.execv(sys.argv[1], sys.argv[1:])"
    )
    done = subprocess.run(
        [sys.executable, "-c", limited, *command],
        capture_output=True,
        text=True,
        env={**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"},
        timeout=300,
    )
    assert done.returncode == 2, done.stderr[-2000:]
    assert "error: could not write a new index version" in done.stderr
    assert "File too large" in done.stderr and "Raise the limit (ulimit -f)" in done.stderr
    assert "Traceback" not in done.stderr
    assert state_of(index, embedder) == known.old and leftovers(index) == []
