"""Benchmark 4: ingest throughput on a real, larger corpus, and incremental re-ingest.

The corpus is the Python 3.11 documentation as Debian ships it (``python3.11-doc``: about
530 HTML files, 50 MB). The HTML files are copied to a work folder (so one can be changed
without touching the system's copy) and indexed by the real ``ragqa ingest`` command in a
subprocess, which gives its wall time and peak RSS (``wait4``). Then:

- a re-ingest with nothing changed,
- a re-ingest after one file gained a paragraph (target: seconds, not a full rebuild).

Figures: documents/s, chunks/s, MB/s (HTML bytes read), peak RSS of the ingest process,
and the in-process ingest time ragqa reports beside the wall time (the difference is
process start: Python imports and loading the embedder).

    .venv/bin/python bench/ingest.py          # installs python3.11-doc first if missing (root)
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import (  # noqa: E402
    RESULTS,
    ROOT,
    command_line,
    dir_size,
    load_average,
    machine,
    ragqa_command,
    table,
    write_json,
)

PY_DOCS = Path("/usr/share/doc/python3.11/html")
CHANGED_FILE = "library/functions.html"
_SUMMARY = re.compile(
    r"(?P<added>\d+) added, (?P<updated>\d+) updated, (?P<removed>\d+) removed, "
    r"(?P<unchanged>\d+) unchanged, (?P<skipped>\d+) skipped; (?P<embedded>\d+) chunks "
    r"embedded; index holds (?P<documents>\d+) documents, (?P<chunks>\d+) chunks "
    r"\((?P<seconds>[\d.]+) s\)"
)


def ensure_corpus(corpus: Path) -> None:
    if corpus.is_dir():
        return
    if corpus != PY_DOCS:
        sys.exit(f"{corpus} does not exist")
    if os.geteuid() != 0:
        sys.exit(f"{corpus} is missing: run `apt-get install -y python3.11-doc` as root first")
    print("installing python3.11-doc (apt-get)…", flush=True)
    subprocess.run(["apt-get", "install", "-y", "-q", "python3.11-doc"], check=True)


def copy_html(src: Path, dst: Path) -> tuple[int, int]:
    """Copy the .html files of ``src`` into ``dst`` keeping their layout; (files, bytes)."""
    n = size = 0
    for p in sorted(src.rglob("*.html")):
        if not p.is_file():
            continue
        target = dst / p.relative_to(src)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(p, target)
        n += 1
        size += target.stat().st_size
    return n, size


def run_ingest(corpus: Path, index: Path, env: dict[str, str]) -> dict[str, Any]:
    """``ragqa ingest`` in a subprocess: wall time, peak RSS and its summary line."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [*ragqa_command(), "ingest", str(corpus), "--index", str(index)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    assert proc.stdout is not None
    output = proc.stdout.read().decode("utf-8", errors="replace")
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"ragqa ingest failed ({proc.returncode}):\n{output[-3000:]}")
    m = _SUMMARY.search(output)
    if m is None:
        raise RuntimeError(f"no summary in the ingest output:\n{output[-3000:]}")
    summary = {k: (float(v) if k == "seconds" else int(v)) for k, v in m.groupdict().items()}
    return {
        "wall_s": wall,
        "ingest_s": summary.pop("seconds"),
        "peak_rss_bytes": usage.ru_maxrss * 1024,
        "cpu_s": usage.ru_utime + usage.ru_stime,
        **summary,
    }


def change_one_file(path: Path) -> None:
    """Add a paragraph to the body of one HTML page."""
    html = path.read_text("utf-8")
    para = (
        "<p>Benchmark edit: this paragraph was added to measure an incremental re-ingest "
        f"at {time.time():.0f}.</p>"
    )
    at = html.rfind("</body>")
    path.write_text(html[:at] + para + html[at:] if at >= 0 else html + para, "utf-8")


def scan_seconds(corpus: Path) -> float:
    """Loading and hashing every file: what any re-ingest reads to find changes."""
    from app.ingest.loaders import discover, load_file

    t0 = time.perf_counter()
    for p in discover([corpus]):
        _ = load_file(p).content_hash
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--corpus", type=Path, default=PY_DOCS, help="folder of HTML files")
    ap.add_argument("--workdir", type=Path, help="work folder (default: a temporary one)")
    ap.add_argument("--keep", action="store_true", help="keep the work folder and index")
    ap.add_argument(
        "--reuse",
        action="store_true",
        help="reuse the corpus and index a kept --workdir holds: skip the full ingest "
        "(its figures are in the earlier run's JSON) and time only the re-ingests",
    )
    ap.add_argument("--out", type=Path, default=RESULTS / "ingest.json")
    args = ap.parse_args()

    ensure_corpus(args.corpus)
    work = args.workdir or Path(tempfile.mkdtemp(prefix="ragqa-bench-ingest-"))
    corpus, index = work / "corpus", work / "index"
    reuse = args.reuse and (index / "CURRENT").is_file() and corpus.is_dir()
    if reuse:
        files = list(corpus.rglob("*.html"))
        n_files, n_bytes = len(files), sum(p.stat().st_size for p in files)
    else:
        shutil.rmtree(corpus, ignore_errors=True)
        shutil.rmtree(index, ignore_errors=True)
        n_files, n_bytes = copy_html(args.corpus, corpus)
    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "TOKENIZERS_PARALLELISM": "false",
        "PYTHONUNBUFFERED": "1",
    }
    info = machine()
    print(f"{n_files} HTML files, {n_bytes / 1e6:.1f} MB; load {info['load_average_at_start']}")

    runs: dict[str, dict[str, Any]] = {}
    if reuse:
        # an index written by an older ragqa records no file hashes: this pass records them
        runs["first re-ingest of a reused index"] = run_ingest(corpus, index, env)
    else:
        runs["full ingest"] = run_ingest(corpus, index, env)
    print(f"{next(iter(runs))}: {next(iter(runs.values()))}", flush=True)
    runs["re-ingest, nothing changed"] = run_ingest(corpus, index, env)
    print(f"re-ingest, nothing changed: {runs['re-ingest, nothing changed']}", flush=True)
    target = corpus / CHANGED_FILE
    if not target.is_file():
        target = max(corpus.rglob("*.html"), key=lambda p: p.stat().st_size)
    change_one_file(target)
    runs["re-ingest, one file changed"] = run_ingest(corpus, index, env)
    print(f"re-ingest, one file changed: {runs['re-ingest, one file changed']}", flush=True)
    scan = scan_seconds(corpus)
    print(f"scan (load and hash every file, in-process): {scan:.1f} s", flush=True)

    from app.vectorstore.store import IndexStore

    snap = IndexStore(index).load()
    text_bytes = sum(len(d.text.encode("utf-8")) for d in snap.documents.values())
    full = runs.get("full ingest")
    one = runs["re-ingest, one file changed"]
    result: dict[str, Any] = {
        "files": n_files,
        "html_bytes": n_bytes,
        "text_bytes": text_bytes,
        "documents": len(snap.documents),
        "chunks": snap.n_chunks,
        "index_bytes": dir_size(index),
        "reused_index": reuse,
        "full": full,
        "first_reingest": runs.get("first re-ingest of a reused index"),
        "unchanged": runs["re-ingest, nothing changed"],
        "one_changed": {**one, "file": str(target.relative_to(corpus))},
        "scan_s": scan,
    }
    if full is not None:
        s = full["ingest_s"]
        result.update(
            {
                "documents_per_s": full["documents"] / s,
                "chunks_per_s": full["chunks"] / s,
                "html_mb_per_s": n_bytes / 1e6 / s,
                "text_mb_per_s": text_bytes / 1e6 / s,
            }
        )
    print()
    print(
        table(
            ["run", "wall s", "ingest s", "docs embedded", "chunks embedded", "peak RSS MB"],
            [
                [
                    name,
                    r["wall_s"],
                    r["ingest_s"],
                    r["added"] + r["updated"],
                    r["embedded"],
                    r["peak_rss_bytes"] / 1e6,
                ]
                for name, r in runs.items()
            ],
        )
    )
    if full is not None:
        print(
            f"\n{result['documents']} documents, {result['chunks']} chunks, "
            f"{n_bytes / 1e6:.1f} MB HTML ({text_bytes / 1e6:.1f} MB text): "
            f"{result['documents_per_s']:.2f} documents/s, {result['chunks_per_s']:.1f} "
            f"chunks/s, {result['html_mb_per_s']:.3f} MB/s of HTML (ingest time)"
        )
    print(f"load average now {load_average()}")
    write_json(
        args.out,
        {
            "benchmark": "ingest",
            "command": command_line(),
            "corpus": str(args.corpus),
            "machine": info,
            **result,
        },
    )
    if not args.keep and args.workdir is None:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
