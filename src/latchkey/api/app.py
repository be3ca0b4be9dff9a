"""The ASGI application: every surface mounted over one Runtime."""

from __future__ import annotations

from fastapi import FastAPI

from latchkey import __version__, config
from latchkey.api import ceremonies, errors, health
from latchkey.api.limits import BodySizeLimit
from latchkey.api.v1 import client as v1_client
from latchkey.api.v1 import server as v1_server
from latchkey.services.runtime import Runtime
from latchkey.store.engine import make_engine


def create_app(rt: Runtime, settings: config.Settings | None = None) -> FastAPI:
    settings = settings or config.Settings()
    app = FastAPI(
        title="Latchkey",
        version=__version__,
        description="Self-hosted passkey (WebAuthn / FIDO2) authentication service.",
    )
    app.state.runtime = rt
    app.state.settings = settings
    errors.install(app)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    app.include_router(health.router)
    app.include_router(ceremonies.router)
    app.include_router(v1_server.router)
    app.include_router(v1_client.router)
    return app


def app_from_env() -> FastAPI:
    """Factory for `uvicorn --factory` and `latchkey serve` worker processes."""
    settings = config.from_env()
    return create_app(Runtime(engine=make_engine(settings.database_url)), settings)
