"""The icon a browser shows in its tab, served on every port Latchkey listens on (the service
and the demo's apps): `/favicon.ico`, which a browser asks for when a page names no icon (a
PNG: browsers read an icon by its content), and `/favicon.svg`, which the pages name."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from litestar import Response, get
from litestar.datastructures import CacheControlHeader

_STATIC = Path(__file__).resolve().parent.parent / "static"
_CACHE = CacheControlHeader(public=True, max_age=86_400)


@cache
def _read(name: str) -> bytes:
    return (_STATIC / name).read_bytes()


@get("/favicon.ico", include_in_schema=False, cache_control=_CACHE, sync_to_thread=False)
def favicon_ico() -> Response[bytes]:
    return Response(_read("favicon.png"), media_type="image/png")


@get("/favicon.svg", include_in_schema=False, cache_control=_CACHE, sync_to_thread=False)
def favicon_svg() -> Response[bytes]:
    return Response(_read("favicon.svg"), media_type="image/svg+xml")


handlers = [favicon_ico, favicon_svg]
