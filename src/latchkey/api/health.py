"""GET /health: the process answers and the database can be reached."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get
from sqlalchemy import text

from latchkey import __version__
from latchkey.api.context import runtime
from latchkey.errors import ServiceUnavailable


@get("/health", sync_to_thread=True, tags=["operations"])
def health(request: Request[Any, Any, Any]) -> Response[dict[str, str]]:
    try:
        with runtime(request).transaction() as conn:
            conn.execute(text("SELECT 1"))
    except ServiceUnavailable:
        return Response(
            {"status": "unavailable", "database": "unreachable", "version": __version__},
            status_code=503,
        )
    return Response({"status": "ok", "database": "ok", "version": __version__})
