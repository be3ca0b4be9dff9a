"""The ASGI application: every surface mounted over one Runtime.

Litestar, chosen by measurement (see the README's design notes): it decodes and validates
msgspec bodies in one pass and costs about a third of FastAPI's time per request.
"""

from __future__ import annotations

import asyncio
import mimetypes
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any

from anyio import to_thread
from litestar import Litestar, Request, Router, get
from litestar.datastructures import CacheControlHeader, State
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme
from litestar.static_files import create_static_files_router

from latchkey import __version__, config, logs, modes, runtime
from latchkey.api import (
    action_page,
    admin,
    ceremonies,
    health,
    home,
    issuer,
    model_icons,
    portal,
    wellknown,
)
from latchkey.api.access_log import AccessLog
from latchkey.api.body_timeout import BodyTimeout
from latchkey.api.cors import ClientCors, OriginIndex
from latchkey.api.error_routing import APP_HANDLERS
from latchkey.api.hosts import HostCheck
from latchkey.api.hot_routes import HotRoutes
from latchkey.api.pools import endpoints as pool_endpoints
from latchkey.api.pools.cors import PoolCors
from latchkey.api.security_headers import add_security_headers
from latchkey.api.v1 import client as v1_client
from latchkey.api.v1 import server as v1_server
from latchkey.modes import Mode, master_key, require_public_url
from latchkey.runtime import Runtime
from latchkey.services import events, tenants, webhook_worker, webhooks
from latchkey.services.mail_worker import build_worker
from latchkey.services.retention import RetentionWorker
from latchkey.web import favicon

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
SDK_DIR = STATIC_DIR / "sdk"

# Module scripts must be served as JavaScript; Python's table lacks .mjs on some versions.
mimetypes.add_type("text/javascript", ".mjs")
mimetypes.add_type("text/javascript", ".js")
mimetypes.add_type("text/plain", ".ts")


@get("/openapi.json", include_in_schema=False, sync_to_thread=False)
def openapi_document(request: Request[Any, Any, Any]) -> dict[str, Any]:
    return request.app.openapi_schema.to_schema()


def _public(response: Any) -> Any:
    # Any page may load the SDK, also as a module script (which is fetched with CORS).
    response.headers["access-control-allow-origin"] = "*"
    return response


def _sdk_router() -> Router:
    return create_static_files_router(
        path="/sdk",
        directories=[SDK_DIR],
        cache_control=CacheControlHeader(public=True, max_age=3600),
        after_request=_public,
        include_in_schema=False,
    )


def _static_router() -> Router:
    """The hosted pages' script and style, and the vendored bot-check widget."""
    return create_static_files_router(
        path="/static",
        directories=[STATIC_DIR],
        cache_control=CacheControlHeader(public=True, max_age=300),
        include_in_schema=False,
    )


SWITCH_INTERVAL_SECONDS = 0.0005


def _background(rt: Runtime, settings: config.Settings) -> Any:
    """Workers that drain stored outboxes while the app runs (each process runs its own; they
    claim rows, so several never send one message twice)."""

    @asynccontextmanager
    async def lifespan(_: Litestar) -> AsyncIterator[None]:
        # The group writer's thread (PostgreSQL: each statement a round trip; SQLite: the
        # commit) waits for the GIL whenever it comes back from the database while the loop
        # runs; Python lets it in only after the switch interval, 5 ms by default, which on
        # PostgreSQL added up to most of a sign-in's latency (bench: 264 → 417/s at C=16).
        interval = sys.getswitchinterval()
        sys.setswitchinterval(SWITCH_INTERVAL_SECONDS)
        rt.attach_writer(asyncio.get_running_loop())
        worker = build_worker(rt, settings)
        if worker is not None:
            worker.start()
        hooks = webhook_worker.build_worker(rt, settings)
        if hooks is not None:
            hooks.start()
        pruner = RetentionWorker(rt)
        pruner.start()
        try:
            yield
        finally:
            await to_thread.run_sync(pruner.stop)
            if worker is not None:
                await to_thread.run_sync(worker.stop)
            if hooks is not None:
                await to_thread.run_sync(hooks.stop)
            await rt.writer.detach()
            sys.setswitchinterval(interval)

    return lifespan


class LatchkeyApp(Litestar):
    """Litestar, with the sign-in hot path's routes dispatched before it (api/hot_routes.py);
    with `hot` None, Litestar's own routes answer them (tests compare the two)."""

    hot: HotRoutes | None = None
    # Also in `state`; read from here by api/context.runtime, which every request calls several
    # times (State's attribute lookup goes through its __getattr__).
    latchkey_runtime: Runtime | None = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        route = self.hot.route(scope) if self.hot is not None else None
        if route is None:
            await super().__call__(scope, receive, send)
            return
        assert self.hot is not None
        scope["app"] = scope["litestar_app"] = self  # what Litestar's handlers read
        scope.setdefault("state", {})
        await self.hot(scope, receive, send, route)

    async def litestar(self, scope: Any, receive: Any, send: Any) -> None:
        """Litestar's own handling of a request, for what the hot routes hand over."""
        await super().__call__(scope, receive, send)


def create_app(rt: Runtime, settings: config.Settings | None = None) -> Litestar:
    settings = settings or config.Settings()
    origins = OriginIndex(partial(tenants.all_web_origins, rt))
    rt.limiter.on_refused = partial(events.record_refusal, rt)
    rt.on_event = webhooks.enqueue_for_event
    app = LatchkeyApp(
        lifespan=[_background(rt, settings)],
        route_handlers=[
            health.health,
            home.home,
            *favicon.handlers,
            model_icons.model_icon,
            openapi_document,
            ceremonies.router,
            v1_server.router,
            v1_client.router,
            action_page.action_page,
            issuer.router,
            issuer.domain_router,
            wellknown.router,
            wellknown.domain_router,
            pool_endpoints.router,
            admin.router,
            portal.router,
            _sdk_router(),
            _static_router(),
        ],
        exception_handlers=APP_HANDLERS,
        middleware=[
            HostCheck,
            DefineMiddleware(BodyTimeout, seconds=settings.body_timeout_seconds),
            DefineMiddleware(ClientCors, origins=origins),
            DefineMiddleware(PoolCors, rt=rt),
        ],
        before_send=[add_security_headers],
        request_max_body_size=settings.max_body_bytes,
        openapi_config=OpenAPIConfig(
            title="Latchkey",
            version=__version__,
            description="Self-hosted passkey (WebAuthn / FIDO2) authentication service.",
            path="/schema",
            components=Components(
                security_schemes={
                    "operatorToken": SecurityScheme(
                        type="http",
                        scheme="bearer",
                        description="An operator API token (lk_op_...) for /admin/v1",
                    )
                }
            ),
            render_plugins=[],
        ),
        state=State({"runtime": rt, "settings": settings}),
        logging_config=None,
    )
    app.latchkey_runtime = rt
    app.hot = HotRoutes(
        app.litestar,
        origins=origins,
        max_body_bytes=settings.max_body_bytes,
        body_seconds=settings.body_timeout_seconds,
    )
    return app


def app_from_env() -> Litestar | AccessLog:
    """Factory for `uvicorn --factory` and `latchkey serve` worker processes: production rules
    (`serve --dev` hands its workers the key it uses through the environment)."""
    settings = config.from_env()
    settings = replace(settings, master_key=master_key(settings, Mode.PRODUCTION))
    require_public_url(settings, Mode.PRODUCTION)
    settings = modes.mail(settings, Mode.PRODUCTION)
    logs.configure(settings.log_level)
    app = create_app(runtime.build(settings), settings)
    return AccessLog(app) if settings.access_log else app
