"""GET /health."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

router = APIRouter(tags=["health"])


@router.get("/health")
def health(request: Request) -> JSONResponse:
    """200 when the index and the model are loaded; 503 with the reason otherwise."""
    body: dict[str, Any] = (
        request.app.state.service.health()
        if request.app.state.service
        else {"status": "degraded", "index_loaded": False, "model_loaded": False}
    )
    problems = request.app.state.problems
    if problems:
        body["status"] = "degraded"
    body["problems"] = problems
    return JSONResponse(body, status_code=200 if body["status"] == "ok" else 503)
