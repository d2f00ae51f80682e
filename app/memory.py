"""Process memory settings for the long-running server.

glibc gives each thread that allocates its own malloc arena and keeps what the thread
freed there for reuse. The server answers on many short-lived worker threads, so without a
cap its resident memory creeps up by the free memory held in up to 8 × cores arenas
(+52 MB over a 17-minute soak, docs/RELIABILITY.md; +17 MB with two arenas).
``MALLOC_ARENA_MAX`` caps that, but only if it is in the environment before the process
starts; :func:`cap_malloc_arenas` sets the same cap from inside, for ``ragqa serve``
started any other way than ``scripts/run.sh`` or the Docker image.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os

log = logging.getLogger(__name__)

M_ARENA_MAX = -8  # glibc's mallopt parameter number (malloc.h)
DEFAULT_ARENAS = 2


def cap_malloc_arenas(arenas: int = DEFAULT_ARENAS) -> bool:
    """Cap glibc's malloc arenas at ``arenas``, unless ``MALLOC_ARENA_MAX`` is already set
    (then glibc applied it at start-up). True when a cap is in force; False where there is
    no glibc (musl, macOS) or mallopt refused."""
    if os.environ.get("MALLOC_ARENA_MAX"):
        return True
    name = ctypes.util.find_library("c")
    if not name:
        return False
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    ok = bool(mallopt(M_ARENA_MAX, arenas))
    if ok:
        log.debug("malloc arenas capped at %d", arenas)
    return ok
