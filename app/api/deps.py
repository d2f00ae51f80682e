"""Request dependencies: the service, and the API key check."""

from __future__ import annotations

import hmac

from fastapi import Request

from app.answer.service import RagService
from app.api.errors import Unauthorized

__all__ = ["Unauthorized", "get_service", "require_read", "require_write"]


def get_service(request: Request) -> RagService:
    service: RagService = request.app.state.service
    return service


def _check_key(request: Request) -> None:
    key = request.app.state.settings.api_key
    if not key:
        return
    header = request.headers.get("authorization", "")
    scheme, _, given = header.partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), key.encode()):
        raise Unauthorized(
            "this endpoint needs the API key: send the header 'Authorization: Bearer <RAGQA_API_KEY>'"
        )


def require_write(request: Request) -> None:
    _check_key(request)


def require_read(request: Request) -> None:
    if request.app.state.settings.protect_reads:
        _check_key(request)
