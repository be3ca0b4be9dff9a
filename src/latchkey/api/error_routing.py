"""The surface that answers an error raised before Litestar chose a route.

An unknown path, a method the path does not serve (405) or a Host Litestar refuses is raised by
the router itself, so only the app's exception handlers see it. Rather than a list of URL
prefixes kept by hand, the answer is found from the app's own routes: a path that names a route
(a 405) answers in that route's surface; an unknown path answers in the surface of every route
under its longest matching static prefix when they all share one (`/v1/nope` in the /v1 shape,
`/{tenant}/identity/{pool}/nope` in the pool shape), otherwise in the plain shape.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from litestar import Litestar, Response
from litestar.exceptions import HTTPException, NotFoundException
from litestar.handlers import BaseRouteHandler
from litestar.middleware._internal.exceptions.middleware import get_exception_handler
from litestar.routes import HTTPRoute
from litestar.types import ExceptionHandlersMap

from latchkey.api import hosts
from latchkey.api.errors import PLAIN, AnyRequest, Surface
from latchkey.errors import LatchkeyError

_PARAM = object()  # the child key of a path parameter, as Litestar's own trie has it


@dataclass
class _Node:
    children: dict[Any, _Node] = field(default_factory=dict)
    path_type: bool = False  # a {name:path} parameter: it takes the rest of the path
    here: set[Surface] = field(default_factory=set)  # surfaces of routes ending at this node
    below: set[Surface] = field(default_factory=set)  # surfaces of routes at or under it


def _surface(handler: BaseRouteHandler) -> Surface:
    found = get_exception_handler(handler.resolve_exception_handlers(), NotFoundException())
    owner = getattr(found, "__self__", None)
    return owner if isinstance(owner, Surface) else PLAIN


def _index(app: Litestar) -> _Node:
    root = _Node()
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        surface = _surface(route.route_handlers[0])
        node = root
        node.below.add(surface)
        for component in route.path_components:
            key = component if isinstance(component, str) else _PARAM
            node = node.children.setdefault(key, _Node())
            if not isinstance(component, str) and component.type is Path:
                node.path_type = True
            node.below.add(surface)
        node.here.add(surface)
    return root


_STATE_KEY = "latchkey_error_routes"


def surface_for(app: Litestar, path: str) -> Surface:
    """The surface whose shape answers a routing error on `path` (see the module doc)."""
    root: _Node | None = app.state.get(_STATE_KEY)
    if root is None:  # built on the first routing error, when every route is registered
        root = app.state[_STATE_KEY] = _index(app)
    node, prefix = root, root
    for component in (p for p in path.split("/") if p):
        if component in node.children:
            node = prefix = node.children[component]
        elif _PARAM in node.children:
            node = node.children[_PARAM]
            if node.path_type:
                break
        else:
            node = None  # type: ignore[assignment]
            break
    if node is not None and len(node.here) == 1:
        return next(iter(node.here))
    return next(iter(prefix.below)) if len(prefix.below) == 1 else PLAIN


def _before_routing(request: AnyRequest, exc: Exception) -> Response[Any]:
    if "route_handler" in request.scope:
        return PLAIN.handlers[HTTPException](request, exc)  # a route with no surface of its own
    surface = surface_for(request.app, request.scope.get("path", "/"))
    try:
        # A malformed Host is named as such on every path, routed or not (RFC 9112 §3.2).
        hosts.of(request.scope)
    except hosts.InvalidHost as invalid:
        return surface.handlers[LatchkeyError](request, invalid)
    return surface.handlers[HTTPException](request, exc)


# The app's handlers: the plain shape, with routing errors answered in their surface's shape.
APP_HANDLERS: ExceptionHandlersMap = {**PLAIN.handlers, HTTPException: _before_routing}
