"""GET /health: the process answers and the database can be reached."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

from latchkey import __version__
from latchkey.api.auth import runtime
from latchkey.errors import ServiceUnavailable

router = APIRouter()


@router.get("/health")
def health(request: Request) -> JSONResponse:
    try:
        with runtime(request).transaction() as conn:
            conn.execute(text("SELECT 1"))
    except ServiceUnavailable:
        return JSONResponse(
            {"status": "unavailable", "database": "unreachable", "version": __version__}, 503
        )
    return JSONResponse({"status": "ok", "database": "ok", "version": __version__})
