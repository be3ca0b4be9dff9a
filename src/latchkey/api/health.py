"""GET /health: the process answers and the database can be reached."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get
from sqlalchemy import text

from latchkey import __version__
from latchkey.api.context import runtime
from latchkey.errors import ServiceUnavailable
from latchkey.services import metadata


@get("/health", sync_to_thread=True, tags=["operations"])
def health(request: Request[Any, Any, Any]) -> Response[dict[str, Any]]:
    rt = runtime(request)
    try:
        with rt.transaction() as conn:
            conn.execute(text("SELECT 1"))
    except ServiceUnavailable:
        return Response(
            {"status": "unavailable", "database": "unreachable", "version": __version__},
            status_code=503,
        )
    # FIDO metadata past its nextUpdate is a warning for the operator, never an outage.
    found = metadata.info(rt)
    body: dict[str, Any] = {
        "status": "ok",
        "database": "ok",
        "version": __version__,
        "metadata": found,
    }
    if found["stale"]:
        body["warnings"] = [
            f"FIDO metadata serial {found['no']} is past its nextUpdate"
            f" ({found['next_update']}); load a newer blob with `latchkey mds update`"
        ]
    return Response(body)
