"""Blocking answer work off the event loop, cancelled when the client hangs up.

One disconnect watcher for every route: ``/api/ask``, ``/api/ask/stream`` and
``/v1/chat/completions`` (plain and streamed); one stream response for both streams.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any, TypeVar

import anyio
from fastapi import Request
from sse_starlette.sse import EventSourceResponse
from starlette.types import Receive, Scope, Send

from app.answer.gate import Reservation
from app.answer.service import StreamEvent

DISCONNECT_POLL_SECONDS = 0.25
T = TypeVar("T")


async def cancellable(request: Request, work: Callable[[threading.Event], T]) -> T:
    """Run ``work`` in a thread; a client that hangs up sets its cancel event, so its
    generation stops (or it leaves the queue) at once."""
    cancel = threading.Event()

    async def watch() -> None:
        while not await request.is_disconnected():
            await anyio.sleep(DISCONNECT_POLL_SECONDS)
        cancel.set()

    watcher = asyncio.ensure_future(watch())
    try:
        return await anyio.to_thread.run_sync(lambda: work(cancel))
    finally:
        cancel.set()
        watcher.cancel()


async def in_thread(
    events: Iterator[StreamEvent], cancel: threading.Event
) -> AsyncIterator[StreamEvent]:
    """Run the blocking answer generator in its own thread; hand its events to the loop.

    The thread alone touches the generator and always closes it, so the model's gate is
    released as soon as the generation stops. Awaiting the queue can be cancelled at once:
    when the client disconnects, the ``finally`` sets ``cancel`` and the thread stops at the
    next token, or within a tenth of a second if it is still waiting for the model.
    """
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()

    def put(item: tuple[str, Any]) -> None:
        with contextlib.suppress(RuntimeError):  # the loop is gone: nobody is listening
            loop.call_soon_threadsafe(queue.put_nowait, item)

    def pump() -> None:
        try:
            for event in events:
                put(("event", event))
                if cancel.is_set():
                    break
            put(("end", None))
        except BaseException as exc:  # handed to the loop, raised there
            put(("error", exc))
        finally:
            close = getattr(events, "close", None)
            if close is not None:
                close()

    threading.Thread(target=pump, name="ragqa-answer-stream", daemon=True).start()
    try:
        while True:
            kind, item = await queue.get()
            if kind == "end":
                return
            if kind == "error":
                raise item
            yield item
    finally:
        cancel.set()


class ReleasingResponse(EventSourceResponse):
    """Releases the stream's place in the queue however the response ends, even if the
    client left before the event generator ever started (its ``finally`` never runs then)."""

    def __init__(self, content: Any, reservation: Reservation, **kwargs: Any) -> None:
        super().__init__(content, **kwargs)
        self._reservation = reservation

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self._reservation.release()
