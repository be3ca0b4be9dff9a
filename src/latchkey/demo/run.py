"""Run Latchkey and the demo's two apps in one process, each on its own port."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import uvicorn

from latchkey import config, modes, preflight
from latchkey.api.access_log import AccessLog
from latchkey.api.app import create_app
from latchkey.demo import apps
from latchkey.demo.portal import PortalConfig, portal_app
from latchkey.demo.setup import DemoConfig, ensure_demo_tenant
from latchkey.services.runtime import Runtime


def _server(app: object, host: str, port: int, log_level: str) -> uvicorn.Server:
    return uvicorn.Server(
        uvicorn.Config(
            app,  # type: ignore[arg-type]
            host=host,
            port=port,
            log_level=log_level,
            access_log=False,
            proxy_headers=False,
        )
    )


async def _serve_all(servers: list[uvicorn.Server]) -> None:
    tasks = [asyncio.create_task(s.serve()) for s in servers]
    # When one stops (Ctrl-C, or a port already taken), stop the others too.
    await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    for server in servers:
        server.should_exit = True
    await asyncio.gather(*tasks, return_exceptions=True)


def portal_config(demo: DemoConfig) -> PortalConfig:
    return PortalConfig(
        issuer=f"{demo.latchkey_url}/t/{demo.tenant_id}/",
        client_id=demo.portal_client_id,
        url=demo.portal_url,
        pool="default",
    )


def announce(demo: DemoConfig) -> None:
    print("Latchkey demo:")
    print(f"  web app       {demo.app_url}   (add a passkey)")
    print(f"  login server  {demo.login_url}   (sign in with it: autofill or the button)")
    print(f"  demo portal   {demo.portal_url}   (sign in through the hosted pages, OIDC)")
    print(f"  Latchkey      {demo.latchkey_url}   (tenant {demo.tenant_id})")


def _latchkey_app(rt: Runtime, settings: config.Settings) -> object:
    app = create_app(rt, settings)
    return AccessLog(app) if modes.access_log(settings, modes.Mode.DEVELOPMENT) else app


def run(
    rt: Runtime,
    settings: config.Settings,
    *,
    login_port: int,
    app_port: int,
    portal_port: int = 5003,
    vendor_sdk_url: str | None = None,
) -> None:
    for port, option in (
        (settings.port, "--port"),
        (login_port, "--login-port"),
        (app_port, "--app-port"),
        (portal_port, "--portal-port"),
    ):
        preflight.check_port(settings.host, port, option)
    demo = replace(
        ensure_demo_tenant(
            rt,
            latchkey_port=settings.port,
            login_port=login_port,
            app_port=app_port,
            portal_port=portal_port,
        ),
        vendor_sdk_url=vendor_sdk_url,
    )
    announce(demo)
    level = settings.log_level
    asyncio.run(
        _serve_all(
            [
                _server(_latchkey_app(rt, settings), settings.host, settings.port, level),
                _server(apps.login_server(demo), settings.host, login_port, level),
                _server(apps.web_app(demo), settings.host, app_port, level),
                _server(portal_app(portal_config(demo)), settings.host, portal_port, level),
            ]
        )
    )
