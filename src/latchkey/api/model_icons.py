"""GET /mds/icons/{aaguid}: an authenticator model's icon from the FIDO metadata, served by
Latchkey itself (pages and API objects link here, never to a CDN)."""

from __future__ import annotations

import uuid

from litestar import Response, get
from litestar.params import FromPath

from latchkey.errors import NotFound
from latchkey.metadata.names import icon_bytes


@get("/mds/icons/{aaguid:str}", sync_to_thread=True, tags=["operations"], include_in_schema=False)
def model_icon(aaguid: FromPath[str]) -> Response[bytes]:
    try:
        key = str(uuid.UUID(aaguid))
    except ValueError:
        raise NotFound("no icon for this AAGUID", code="icon_not_found") from None
    found = icon_bytes(key)
    if found is None:
        raise NotFound("no icon for this AAGUID", code="icon_not_found")
    media, body = found
    return Response(
        body,
        media_type=media,
        headers={
            "cache-control": "public, max-age=86400",
            "x-content-type-options": "nosniff",
            # An SVG opened on its own must not run script.
            "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'",
        },
    )
