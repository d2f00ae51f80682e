"""One error shape across the API: ``{"error": {"code", "message", "status"}}``."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from app import errors


class Unauthorized(errors.RagqaError):
    """A write (or, with RAGQA_PROTECT_READS, any request) without the right API key."""

    code = "unauthorized"


class ErrorBody(BaseModel):
    code: str
    message: str
    status: int


class ErrorResponse(BaseModel):
    error: ErrorBody


STATUS = {
    Unauthorized: 401,
    errors.BadInput: 422,
    errors.UnknownScope: 400,
    errors.UnsupportedDocument: 415,
    errors.TooLarge: 413,
    errors.DocumentNotFound: 404,
    errors.IndexMissing: 503,
    errors.IndexIncompatible: 503,
    errors.IndexCorrupt: 503,
    errors.IndexBusy: 409,
    errors.IndexWriteFailed: 500,
    errors.StorageFull: 507,
    errors.ModelUnavailable: 503,
    errors.Busy: 503,
    errors.GenerationTimeout: 504,
    errors.Cancelled: 499,
}

# documented on every route that can fail
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorResponse} for code in (400, 401, 404, 409, 413, 415, 422, 503, 504, 507)
}


def status_for(exc: errors.RagqaError) -> int:
    for cls in type(exc).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 500


def error_json(
    status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(
        {"error": {"code": code, "message": message, "status": status}},
        status_code=status,
        headers=headers,
    )


def _describe_validation(exc: RequestValidationError) -> str:
    parts = []
    for err in exc.errors()[:5]:
        loc = ".".join(str(x) for x in err.get("loc", ()) if x != "body")
        msg = err.get("msg", "invalid")
        if err.get("type") == "json_invalid":
            return "the request body is not valid JSON"
        parts.append(f"{loc}: {msg}" if loc else msg)
    return "; ".join(parts) or "invalid request"


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(errors.RagqaError)
    async def ragqa_error(_: Request, exc: errors.RagqaError) -> JSONResponse:
        status = status_for(exc)
        headers = None
        if isinstance(exc, errors.Busy):
            headers = {"Retry-After": str(exc.retry_after)}
        elif isinstance(exc, Unauthorized):
            headers = {"WWW-Authenticate": "Bearer"}
        return error_json(status, exc.code, exc.message, headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        return error_json(422, "bad_input", _describe_validation(exc))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        codes = {
            400: "bad_request",
            404: "not_found",
            405: "method_not_allowed",
            401: "unauthorized",
            413: "too_large",
            415: "unsupported_media_type",
        }
        message = exc.detail if isinstance(exc.detail, str) else "request failed"
        if exc.status_code == 404 and message == "Not Found":
            message = "no such route; see /docs for the API"
        elif exc.status_code == 400 and message == "There was an error parsing the body":
            message = (
                "the request body could not be read: send UTF-8 JSON (nested at most a few "
                "hundred levels) or, for uploads, multipart/form-data"
            )
        return error_json(
            exc.status_code,
            codes.get(exc.status_code, "error"),
            message,
            dict(exc.headers) if exc.headers else None,
        )

    @app.exception_handler(Exception)
    async def unexpected(_: Request, exc: Exception) -> JSONResponse:
        import logging

        logging.getLogger("ragqa").exception("unexpected error")
        return error_json(
            500, "internal", f"internal error ({type(exc).__name__}); see the server log"
        )
