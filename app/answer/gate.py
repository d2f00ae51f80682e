"""One generation at a time, with a bounded queue in front.

A llama.cpp context is not thread-safe, and two generations on two CPU cores would each
run at half speed anyway. Requests beyond ``max_queue`` waiting ones are refused with
:class:`Busy`, which carries a Retry-After estimate from recent generation times.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from app.errors import Busy, GenerationTimeout


class GenerationGate:
    def __init__(self, max_queue: int = 8) -> None:
        self.max_queue = max_queue
        self._run = threading.Lock()
        self._meta = threading.Lock()
        self.waiting = 0
        self.active = 0
        self._avg_seconds = 5.0

    def retry_after(self) -> int:
        return max(1, math.ceil(self._avg_seconds * (self.waiting + 1)))

    @contextmanager
    def slot(self, timeout: float) -> Iterator[None]:
        with self._meta:
            if self.active and self.waiting >= self.max_queue:
                raise Busy(
                    f"the server is busy answering other questions ({self.waiting} waiting); "
                    f"retry in {self.retry_after()} s",
                    retry_after=self.retry_after(),
                )
            self.waiting += 1
        try:
            acquired = self._run.acquire(timeout=timeout)
        finally:
            with self._meta:
                self.waiting -= 1
        if not acquired:
            raise GenerationTimeout(
                f"waited {timeout:.0f} s for the model without getting a turn; try again"
            )
        with self._meta:
            self.active += 1
        t0 = time.monotonic()
        try:
            yield
        finally:
            elapsed = time.monotonic() - t0
            with self._meta:
                self.active -= 1
                self._avg_seconds = 0.7 * self._avg_seconds + 0.3 * elapsed
            self._run.release()
