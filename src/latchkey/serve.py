"""`latchkey serve`: uvicorn over the app; in development, a local tenant on first start."""

from __future__ import annotations

import os
from base64 import urlsafe_b64encode
from typing import Any

import uvicorn

from latchkey import config, modes, preflight, startup
from latchkey.api.access_log import AccessLog
from latchkey.api.app import create_app
from latchkey.runtime import Runtime
from latchkey.services import tenants


def ensure_dev_tenant(rt: Runtime, port: int) -> None:
    """On an empty database, make a tenant for http://localhost:<port> and show its key once."""
    if tenants.any_exist(rt):
        return
    tenant, secret = tenants.create(
        rt,
        rp_id="localhost",
        rp_name="Latchkey local",
        name="local development",
        origins=[f"http://localhost:{port}"],
    )
    print("Created a local development tenant (shown once):")
    print(f"  tenant id:  {tenant.id}")
    print(f"  secret key: {secret}")
    print(f"  RP ID localhost, origin http://localhost:{port}")
    print(f"  hosted pages: http://localhost:{port}/{tenant.id}/identity/default/signin")


def proxy_options(settings: config.Settings) -> dict[str, Any]:
    """uvicorn believes X-Forwarded-* from 127.0.0.1 unless told otherwise: only from the
    configured proxies here, and from nobody when there are none."""
    trusted = list(settings.trusted_proxies)
    return {"proxy_headers": bool(trusted), "forwarded_allow_ips": trusted or None}


def serve(rt: Runtime, settings: config.Settings, *, workers: int = 1, dev: bool = False) -> None:
    preflight.check_port(settings.host, settings.port, "--port or LATCHKEY_PORT")
    if dev:
        ensure_dev_tenant(rt, settings.port)
        print(startup.dev_banner(rt.public_url), flush=True)
    log_level = settings.log_level
    logged = modes.access_log(settings, modes.Mode.DEVELOPMENT if dev else modes.Mode.PRODUCTION)
    if workers > 1:
        os.environ["LATCHKEY_ACCESS_LOG"] = "on" if logged else "off"
        # Each worker process builds its own app (and engine) from the environment, under
        # production rules: it gets the key this process runs with (in development, the file's).
        os.environ["LATCHKEY_DATABASE_URL"] = settings.database_url
        os.environ["LATCHKEY_PUBLIC_URL"] = rt.public_url
        os.environ["LATCHKEY_MAIL_MODE"] = settings.mail_mode
        if rt.master_key and not os.environ.get("LATCHKEY_MASTER_KEY"):
            os.environ["LATCHKEY_MASTER_KEY"] = urlsafe_b64encode(rt.master_key).decode()
        if settings.rate_limit_store == "auto" and not settings.redis_url:
            # Several processes must share their counts: through the database file.
            os.environ["LATCHKEY_RATE_LIMIT_STORE"] = "database"
        uvicorn.run(
            "latchkey.api.app:app_from_env",
            factory=True,
            host=settings.host,
            port=settings.port,
            workers=workers,
            log_level=log_level,
            access_log=False,
            **proxy_options(settings),
        )
        return
    app = create_app(rt, settings)
    uvicorn.run(
        AccessLog(app) if logged else app,
        host=settings.host,
        port=settings.port,
        log_level=log_level,
        access_log=False,
        **proxy_options(settings),
    )
