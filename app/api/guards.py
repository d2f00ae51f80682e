"""Request guards that run before any route: body size, content encoding, CORS refusals.

- Bodies are limited before they are read: ``POST /api/documents`` to the upload limit
  (``RAGQA_MAX_UPLOAD_MB``) plus room for the multipart framing, ``/v1`` requests to
  :data:`OPENAI_BODY_LIMIT`, every other request to :data:`JSON_BODY_LIMIT`. A declared ``Content-Length`` over the limit is refused at once;
  a chunked body is counted as it arrives and refused as soon as it passes the limit, so
  neither memory nor the temporary upload file grows past it.
- With ``RAGQA_API_KEY`` set, an upload without the key is refused (401) before its body
  is read, not after a 20 MB file has been received.
- Compressed request bodies (``Content-Encoding: gzip`` …) are refused: nothing is ever
  inflated, so a compression bomb costs only its compressed size.
- A CORS preflight from an origin that is not allowed gets the one error shape too.

Every refusal has the documented shape ``{"error": {"code", "message", "status"}}``.
"""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.api.deps import UNAUTHORIZED, key_matches
from app.api.errors import error_json
from app.settings import Settings

JSON_BODY_LIMIT = 1 << 20  # 1 MiB: a question, its top_k and 20 turns of history fit easily
# /v1 (OpenAI-compatible) admits 64 messages of 20,000 characters, or 128 embedding inputs
# of 8,000: up to about 8 MB of JSON when every character is \u-escaped
OPENAI_BODY_LIMIT = 8 << 20
MULTIPART_OVERHEAD = 64 << 10  # boundaries and part headers around the uploaded file
UPLOAD_PATH = "/api/documents"


class BodyTooLarge(StarletteHTTPException):
    """Raised from ``receive`` while the app reads a body that has passed its limit; the
    error handlers turn it into a 413 in the error shape."""

    def __init__(self, message: str) -> None:
        super().__init__(status_code=413, detail=message)


class BodyGuard:
    """ASGI middleware: refuse over-large and compressed request bodies, and uploads without
    the API key, before reading them."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    def limit_for(self, scope: Scope) -> tuple[int, str]:
        if scope.get("path", "").rstrip("/") == UPLOAD_PATH:
            mb = self.settings.max_upload_mb
            limit = int(mb * 1024 * 1024) + MULTIPART_OVERHEAD
            return limit, f"the upload is larger than the {mb:g} MB limit (RAGQA_MAX_UPLOAD_MB)"
        if scope.get("path", "").startswith("/v1/"):
            return OPENAI_BODY_LIMIT, (
                f"the request body is larger than {OPENAI_BODY_LIMIT >> 20} MB, more than the "
                "largest request this API admits"
            )
        return JSON_BODY_LIMIT, (
            f"the request body is larger than {JSON_BODY_LIMIT // 1024} kB; a question and its "
            "history are far smaller"
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        encoding = headers.get("content-encoding", "").strip().lower()
        if encoding not in ("", "identity"):
            await error_json(
                415,
                "unsupported_media_type",
                f"Content-Encoding {encoding!r} is not accepted: send the request body "
                "uncompressed",
            )(scope, receive, send)
            return
        key = self.settings.api_key
        if (
            key
            and scope.get("method") == "POST"
            and scope.get("path", "").rstrip("/") == UPLOAD_PATH
            and not key_matches(headers.get("authorization", ""), key)
        ):
            await error_json(401, "unauthorized", UNAUTHORIZED, {"WWW-Authenticate": "Bearer"})(
                scope, receive, send
            )
            return
        limit, message = self.limit_for(scope)
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            await error_json(413, "too_large", message, {"Connection": "close"})(
                scope, receive, send
            )
            return

        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            msg = await receive()
            if msg["type"] == "http.request":
                received += len(msg.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(message)
            return msg

        async def tracking_send(msg: Message) -> None:
            nonlocal started
            if msg["type"] == "http.response.start":
                started = True
            await send(msg)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except BodyTooLarge:
            # read outside a route's error handling (normally the handlers answer it)
            if started:
                raise
            await error_json(413, "too_large", message, {"Connection": "close"})(
                scope, receive, send
            )


class ShapedCORSMiddleware(CORSMiddleware):
    """Starlette's CORS middleware, with refused preflights in the error shape."""

    def preflight_response(self, request_headers: Headers) -> Response:
        response = super().preflight_response(request_headers)
        if response.status_code < 400:
            return response
        headers = {
            k: v
            for k, v in response.headers.items()
            if k.lower() not in ("content-length", "content-type")
        }
        reason = bytes(response.body).decode("utf-8", "replace")
        return error_json(
            response.status_code,
            "cors_refused",
            f"{reason}: this origin, method or header is not allowed (RAGQA_CORS_ORIGINS)",
            headers,
        )
