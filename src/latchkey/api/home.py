"""GET /: where a newcomer who opens the service's address lands — a small page linking the demo
(under `latchkey demo`), the operator portal and the API documentation, instead of a 404. A JSON
client (Accept: application/json) gets the same links as JSON."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar import Litestar, MediaType, Request, Response, get

from latchkey import __version__
from latchkey.api.portal.http import HEADERS
from latchkey.web.pages import render

_DEMO_LINKS = "home_demo_links"


@dataclass(frozen=True)
class Link:
    title: str
    url: str
    what: str


def show_demo(app: Litestar, links: list[Link]) -> None:
    """Under `latchkey demo`: the demo's apps, listed first on the page."""
    app.state[_DEMO_LINKS] = links


def _service_links() -> list[Link]:
    return [
        Link("Operator portal", "/portal/login", "tenants, apps, users and the event log"),
        Link("API reference", "/openapi.json", "the OpenAPI document of every endpoint"),
        Link("Health", "/health", "whether the service and its database answer"),
    ]


def _wants_json(request: Request[Any, Any, Any]) -> bool:
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


@get("/", include_in_schema=False, sync_to_thread=False)
def home(request: Request[Any, Any, Any]) -> Response[Any]:
    demo: list[Link] = request.app.state.get(_DEMO_LINKS, [])
    service = _service_links()
    if _wants_json(request):
        links = {link.title: link.url for link in [*demo, *service]}
        return Response({"service": "latchkey", "version": __version__, "links": links})
    page = render("home.html", demo=demo, service=service, version=__version__)
    return Response(page, media_type=MediaType.HTML, headers=HEADERS)
