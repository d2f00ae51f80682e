"""Errors in OpenAI's shape under ``/v1``: besides ragqa's ``code``, ``message`` and
``status``, the ``type`` and ``param`` OpenAI clients read, so they raise their usual
exceptions (``BadRequestError``, ``AuthenticationError``, …)."""

from __future__ import annotations

import json
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

OPENAI_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    409: "conflict_error",
    413: "invalid_request_error",
    415: "invalid_request_error",
    422: "invalid_request_error",
    429: "rate_limit_error",
}


def openai_error_type(status: int) -> str:
    return OPENAI_ERROR_TYPES.get(
        status, "server_error" if status >= 500 else "invalid_request_error"
    )


def openai_error(code: str, message: str, status: int) -> dict[str, Any]:
    return {
        "error": {
            "message": message,
            "type": openai_error_type(status),
            "param": None,
            "code": code,
            "status": status,
        }
    }


class OpenAIErrorShape:
    """ASGI middleware: an error response under ``/v1`` gains OpenAI's ``type`` and
    ``param`` (ragqa's ``code``, ``message`` and ``status`` stay). Error bodies are small
    and buffered; successful and streaming responses pass through untouched."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if not path.startswith("/v1/"):
            await self.app(scope, receive, send)
            return
        start: Message | None = None
        chunks: list[bytes] = []

        async def shaped_send(msg: Message) -> None:
            nonlocal start
            if msg["type"] == "http.response.start" and msg["status"] >= 400:
                start = msg
                return
            if start is None or msg["type"] != "http.response.body":
                await send(msg)
                return
            chunks.append(msg.get("body", b""))
            if msg.get("more_body"):
                return
            body = _reshape(b"".join(chunks), start["status"])
            headers = [(k, v) for k, v in start["headers"] if k.lower() != b"content-length"]
            headers.append((b"content-length", str(len(body)).encode()))
            await send({**start, "headers": headers})
            await send({"type": "http.response.body", "body": body})

        await self.app(scope, receive, shaped_send)


def _reshape(body: bytes, status: int) -> bytes:
    try:
        data = json.loads(body)
        err = data["error"]
        code, message = str(err.get("code", "error")), str(err.get("message", ""))
    except (ValueError, KeyError, TypeError, AttributeError):
        return body
    return json.dumps(openai_error(code, message, int(err.get("status", status)))).encode()
