"""Request dependencies: the service, and the API key check.

The key is declared as an HTTP bearer scheme, so the OpenAPI page shows which routes take
it and its "Authorize" button can send it; the check itself is ours (constant time).
"""

from __future__ import annotations

import hmac
from typing import Annotated, Any

from fastapi import FastAPI, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from app.answer.service import RagService
from app.api.errors import Unauthorized
from app.services.documents import DocumentService
from app.services.jobs import JobService
from app.settings import Settings

__all__ = [
    "Unauthorized",
    "document_auth",
    "get_documents",
    "get_jobs",
    "get_service",
    "key_matches",
    "require_read",
    "require_write",
]


def get_service(request: Request) -> RagService:
    service: RagService = request.app.state.service
    return service


def get_documents(request: Request) -> DocumentService:
    documents: DocumentService = request.app.state.documents
    return documents


def get_jobs(request: Request) -> JobService:
    jobs: JobService = request.app.state.jobs
    return jobs


UNAUTHORIZED = (
    "this endpoint needs the API key: send the header 'Authorization: Bearer <RAGQA_API_KEY>'"
)


def key_matches(header: str, key: str) -> bool:
    """True when ``header`` is ``Bearer <key>``; compared in constant time."""
    scheme, _, given = header.strip().partition(" ")
    matches = hmac.compare_digest(given.strip().encode("utf-8"), key.encode("utf-8"))
    return scheme.lower() == "bearer" and matches


def _check_key(request: Request) -> None:
    key = request.app.state.settings.api_key
    if key and not key_matches(request.headers.get("authorization", ""), key):
        raise Unauthorized(UNAUTHORIZED)


bearer = HTTPBearer(
    auto_error=False,
    scheme_name="RAGQA_API_KEY",
    description="Needed for uploads and deletes (role `write`) when the server sets "
    "RAGQA_API_KEY, and for questions and listings too (role `read`) when it also sets "
    "RAGQA_PROTECT_READS.",
)
# The role in the OpenAPI security requirement tells writes from reads (see document_auth).
WriteKey = Annotated[HTTPAuthorizationCredentials | None, Security(bearer, scopes=["write"])]
ReadKey = Annotated[HTTPAuthorizationCredentials | None, Security(bearer, scopes=["read"])]


def require_write(request: Request, _: WriteKey) -> None:
    _check_key(request)


def require_read(request: Request, _: ReadKey) -> None:
    if request.app.state.settings.protect_reads:
        _check_key(request)


def document_auth(app: FastAPI, settings: Settings) -> None:
    """Make the OpenAPI schema say where *this* server needs the key: required for writes
    when ``RAGQA_API_KEY`` is set, for reads too with ``RAGQA_PROTECT_READS``; elsewhere
    optional (``{}`` as an alternative), as it is."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = generate()
        for ops in schema.get("paths", {}).values():
            for op in ops.values():
                roles = [
                    r for req in op.get("security", []) for r in req.get(bearer.scheme_name, [])
                ]
                if not roles:
                    continue
                enforced = bool(settings.api_key) and ("write" in roles or settings.protect_reads)
                if not enforced:
                    op["security"] = [{}, *op["security"]]
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
