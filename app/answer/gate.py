"""One generation at a time, with a bounded queue in front.

A llama.cpp context is not thread-safe, and two generations on two CPU cores would each
run at half speed anyway. Requests beyond ``max_queue`` waiting ones are refused with
:class:`Busy`, which carries a Retry-After estimate from recent generation times.

A stream reserves its place (:meth:`GenerationGate.reserve`) when it is accepted, before
retrieval, so the 503 comes as a real 503 before the stream starts; without it, several
streams accepted in the same instant would all pass the check and then find the queue full
after their ``sources`` event.

A waiting request whose client has gone away (its ``cancel`` event is set) leaves the queue
within :data:`POLL_SECONDS` instead of waiting for its turn and then generating for nobody.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from app.errors import Busy, Cancelled, GenerationTimeout

POLL_SECONDS = 0.1


class Reservation:
    """A place in the queue, held from admission until the request waits for the model
    (:meth:`GenerationGate.slot` takes it over) or gives up (:meth:`release`)."""

    def __init__(self, gate: GenerationGate) -> None:
        self._gate = gate
        self.held = True

    def release(self) -> None:
        with self._gate._meta:
            if self.held:
                self.held = False
                self._gate.waiting -= 1


class GenerationGate:
    def __init__(self, max_queue: int = 8) -> None:
        self.max_queue = max_queue
        self._run = threading.Lock()
        self._meta = threading.Lock()
        self.waiting = 0  # admitted and not yet generating (reserved or queued)
        self.queued = 0  # of those, blocked on the model's lock right now
        self.active = 0
        self._avg_seconds = 5.0

    def retry_after(self) -> int:
        return max(1, math.ceil(self._avg_seconds * (self.waiting + 1)))

    def _acquire(self, timeout: float, cancel: threading.Event | None) -> bool:
        if cancel is None:
            return self._run.acquire(timeout=max(0.0, timeout))
        deadline = time.monotonic() + timeout
        while not cancel.is_set():
            remaining = deadline - time.monotonic()
            if self._run.acquire(timeout=max(0.0, min(POLL_SECONDS, remaining))):
                if cancel.is_set():  # cancelled while it was being granted
                    self._run.release()
                    break
                return True
            if remaining <= 0:
                return False
        raise Cancelled("the client went away while waiting for the model")

    def _busy(self) -> Busy:
        return Busy(
            f"the server is busy answering other questions ({self.waiting} waiting); "
            f"retry in {self.retry_after()} s",
            retry_after=self.retry_after(),
        )

    def reserve(self) -> Reservation:
        """Count a request as waiting from now on, or raise :class:`Busy` if the queue
        (with the generation in progress) is full. Pass it to :meth:`slot`; release it if
        the request ends without reaching the model."""
        with self._meta:
            if self.active + self.waiting >= self.max_queue + 1:
                raise self._busy()
            self.waiting += 1
        return Reservation(self)

    @contextmanager
    def slot(
        self,
        timeout: float,
        cancel: threading.Event | None = None,
        reservation: Reservation | None = None,
    ) -> Iterator[None]:
        with self._meta:
            if reservation is not None and reservation.held:
                reservation.held = False  # its place in the queue becomes this wait
            else:
                if self.active and self.waiting >= self.max_queue:
                    raise self._busy()
                self.waiting += 1
            self.queued += 1
        try:
            acquired = self._acquire(timeout, cancel)
        finally:
            with self._meta:
                self.waiting -= 1
                self.queued -= 1
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
