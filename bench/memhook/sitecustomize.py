"""Debug-only memory hook for ``bench/load.py --memhook``; ragqa itself never loads it.

Python imports ``sitecustomize`` at start-up from ``sys.path``: ``--memhook`` puts this
folder first on the server's ``PYTHONPATH`` and sets ``RAGQA_MEMHOOK_DIR``. Without that
variable this module does nothing. With it, it starts tracemalloc
(``RAGQA_MEMHOOK_FRAMES`` frames, default 1; 0 leaves it off) and, on ``SIGUSR1``, writes
``dump-<n>.json`` into that folder:

* ``rss``: VmRSS, RssAnon, RssFile of the process
* ``mallinfo2``: glibc's own count over every arena: ``uordblks`` bytes in use,
  ``fordblks`` free but kept inside the arenas, ``hblkhd`` in blocks mmap'd on their own
* ``arenas``: per arena (``malloc_info``), the memory it holds from the system and the free
  part of it
* ``tracemalloc``: the bytes of live Python allocations (this hook's own left out) and
  their growth since the first dump, tracemalloc's own overhead, and the 25 source lines
  whose live allocations grew most since the first dump

``SIGUSR2`` does the same after ``malloc_trim(0)``, which hands the free pages of every
arena back to the system: what RSS drops by then was kept by the allocator, not by live
objects. The handlers run on the main thread (uvicorn's event loop) between requests.
"""

from __future__ import annotations

import ctypes
import json
import os
import signal
import threading
import tracemalloc
import xml.etree.ElementTree as ET
from typing import Any

_DIR = os.environ.get("RAGQA_MEMHOOK_DIR")
_first: dict[str, tuple[int, int]] | None = None  # per source line: bytes, blocks
_count = 0


_FIELDS = (
    "arena",
    "ordblks",
    "smblks",
    "hblks",
    "hblkhd",
    "usmblks",
    "fsmblks",
    "uordblks",
    "fordblks",
    "keepcost",
)


class _Mallinfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in _FIELDS]


def _libc() -> Any:
    libc = ctypes.CDLL("libc.so.6")
    libc.mallinfo2.restype = _Mallinfo2
    libc.fopen.restype = ctypes.c_void_p
    libc.fopen.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
    libc.fclose.argtypes = [ctypes.c_void_p]
    libc.malloc_info.argtypes = [ctypes.c_int, ctypes.c_void_p]
    libc.malloc_trim.argtypes = [ctypes.c_size_t]
    return libc


def _status() -> dict[str, int]:
    out: dict[str, int] = {}
    with open("/proc/self/status", encoding="utf-8") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "RssAnon", "RssFile", "Threads"):
                n = int(value.split()[0])
                out[key] = n if key == "Threads" else n * 1024
    return out


def _arenas(libc: Any, path: str) -> list[dict[str, int]]:
    fp = libc.fopen(path.encode(), b"w")
    libc.malloc_info(0, fp)
    libc.fclose(fp)
    out = []
    for heap in ET.parse(path).getroot().iter("heap"):
        sizes = {
            (el.tag, el.get("type")): int(el.get("size") or 0)
            for el in heap
            if el.tag in ("total", "system")
        }
        out.append(
            {
                "nr": int(heap.get("nr") or 0),
                "system": sizes.get(("system", "current"), 0),
                "free": sizes.get(("total", "fast"), 0) + sizes.get(("total", "rest"), 0),
            }
        )
    os.unlink(path)
    return out


def _dump(trim: bool) -> None:
    global _first, _count
    assert _DIR is not None
    libc = _libc()
    data: dict[str, Any] = {"n": _count, "trim": trim, "python_threads": threading.active_count()}
    if trim:
        data["rss_before_trim"] = _status()
        libc.malloc_trim(0)
    data["rss"] = _status()
    info = libc.mallinfo2()
    data["mallinfo2"] = {name: int(getattr(info, name)) for name in _FIELDS}
    data["arenas"] = _arenas(libc, os.path.join(_DIR, f".malloc-info-{_count}.xml"))
    if tracemalloc.is_tracing():
        current, peak = tracemalloc.get_traced_memory()  # before the snapshot adds its own
        # without this hook's own blocks (the previous dump's per-line totals)
        snap = tracemalloc.take_snapshot().filter_traces(
            [tracemalloc.Filter(False, tracemalloc.__file__), tracemalloc.Filter(False, __file__)]
        )
        by_line = {str(st.traceback[0]): (st.size, st.count) for st in snap.statistics("lineno")}
        del snap  # the per-line totals are all we keep, not the snapshot
        python_bytes = sum(size for size, _ in by_line.values())
        first = _first if _first is not None else by_line
        grown = sorted(
            (
                (
                    size - first.get(where, (0, 0))[0],
                    size,
                    count - first.get(where, (0, 0))[1],
                    where,
                )
                for where, (size, count) in by_line.items()
            ),
            reverse=True,
        )
        data["tracemalloc"] = {
            "python_bytes": python_bytes,  # live Python allocations, this hook's left out
            "python_growth_since_first_bytes": python_bytes
            - sum(size for size, _ in first.values()),
            "traced_bytes": current,
            "traced_peak_bytes": peak,
            "overhead_bytes": tracemalloc.get_tracemalloc_memory(),
            "lines": len(by_line),
            "top_growth_since_first": [
                {"where": where, "size_diff": diff, "size": size, "count_diff": count_diff}
                for diff, size, count_diff, where in grown[:25]
                if diff > 0
            ],
        }
        if _first is None:
            _first = by_line
    tmp = os.path.join(_DIR, f".dump-{_count}.json")
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(data, f, indent=1)
    os.replace(tmp, os.path.join(_DIR, f"dump-{_count}.json"))
    _count += 1


if _DIR:
    _frames = int(os.environ.get("RAGQA_MEMHOOK_FRAMES", "1"))
    if _frames > 0:  # 0: the allocator figures only, without tracemalloc's overhead
        tracemalloc.start(_frames)
    signal.signal(signal.SIGUSR1, lambda *_: _dump(trim=False))
    signal.signal(signal.SIGUSR2, lambda *_: _dump(trim=True))
