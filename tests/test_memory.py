"""ragqa serve caps glibc's malloc arenas itself (docs/RELIABILITY.md, the soak)."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

pytestmark = pytest.mark.unit

# four threads allocate at once, then glibc's malloc_stats() lists its arenas on stderr
CHILD = """
import ctypes, sys, threading
from app.memory import cap_malloc_arenas
if sys.argv[1] == "cap":
    assert cap_malloc_arenas(1)
barrier = threading.Barrier(4)
def work():
    barrier.wait()
    kept = [bytearray(2000) for _ in range(2000)]
threads = [threading.Thread(target=work) for _ in range(4)]
[t.start() for t in threads]
[t.join() for t in threads]
ctypes.CDLL("libc.so.6").malloc_stats()
"""


def arenas(mode: str) -> int:
    child = subprocess.run(
        [sys.executable, "-c", CHILD, mode],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin"},  # no MALLOC_ARENA_MAX from outside
        timeout=60,
    )
    assert child.returncode == 0, child.stderr
    return len(re.findall(r"(?m)^Arena \d+:", child.stderr))


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc only")
def test_the_cap_keeps_threads_to_the_capped_number_of_arenas() -> None:
    assert arenas("free") > 1  # without it, threads that allocate at once get their own
    assert arenas("cap") == 1


def test_an_arena_limit_from_the_environment_is_left_to_glibc(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from app.memory import cap_malloc_arenas

    monkeypatch.setenv("MALLOC_ARENA_MAX", "4")
    assert cap_malloc_arenas() is True  # glibc read it at start-up; nothing else to do
