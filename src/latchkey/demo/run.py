"""Run Latchkey and the demo's two apps in one process, each on its own port."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import uvicorn

from latchkey import config, modes, preflight, startup
from latchkey.api import home
from latchkey.api.access_log import AccessLog
from latchkey.api.app import create_app
from latchkey.demo import apps
from latchkey.demo.portal import PortalConfig, portal_app
from latchkey.demo.setup import DemoConfig, ensure_demo_tenant
from latchkey.runtime import Runtime


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


async def _serve_all(servers: list[uvicorn.Server], banner: str) -> None:
    tasks = [asyncio.create_task(s.serve()) for s in servers]
    announcing = asyncio.create_task(_announce(servers, tasks, banner))
    # When one stops (Ctrl-C, or a port already taken), stop the others too.
    await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    announcing.cancel()
    for server in servers:
        server.should_exit = True
    await asyncio.gather(*tasks, announcing, return_exceptions=True)


async def _announce(
    servers: list[uvicorn.Server], tasks: list[asyncio.Task[None]], banner: str
) -> None:
    """The banner, once every server listens (and never if one failed to start)."""
    while not all(server.started for server in servers):
        if any(task.done() for task in tasks):
            return
        await asyncio.sleep(0.05)
    print(banner, flush=True)


def portal_config(demo: DemoConfig) -> PortalConfig:
    return PortalConfig(
        issuer=f"{demo.latchkey_url}/t/{demo.tenant_id}/",
        client_id=demo.portal_client_id,
        url=demo.portal_url,
        pool="default",
    )


def banner(demo: DemoConfig) -> str:
    """What `make run` shows once everything listens: where to go, and how to become an
    operator of the portal."""
    return "\n".join(
        [
            "Latchkey demo is running (Ctrl-C stops it):",
            f"  web app       {demo.app_url}   (add a passkey)",
            f"  login server  {demo.login_url}   (sign in with it: autofill or the button)",
            f"  demo portal   {demo.portal_url}   (sign in through the hosted pages, OIDC)",
            f"  Latchkey      {demo.latchkey_url}/   (tenant {demo.tenant_id}; links to all)",
            f"  portal        {demo.latchkey_url}/portal   (operators: tenants, apps, events)",
            f"  first operator: {startup.enrol_command()}",
        ]
    )


def _demo_links(demo: DemoConfig) -> list[home.Link]:
    return [
        home.Link("Demo web app", demo.app_url, "add a passkey"),
        home.Link("Demo login server", demo.login_url, "sign in with a passkey"),
        home.Link("Demo portal", demo.portal_url, "sign in through the hosted pages (OIDC)"),
    ]


def _latchkey_app(rt: Runtime, settings: config.Settings, demo: DemoConfig) -> object:
    app = create_app(rt, settings)
    home.show_demo(app, _demo_links(demo))
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
    level = settings.log_level
    servers = [
        _server(_latchkey_app(rt, settings, demo), settings.host, settings.port, level),
        _server(apps.login_server(demo), settings.host, login_port, level),
        _server(apps.web_app(demo), settings.host, app_port, level),
        _server(portal_app(portal_config(demo)), settings.host, portal_port, level),
    ]
    startup.quiet_uvicorn_routine()  # four servers would each say they start and stop
    asyncio.run(_serve_all(servers, banner(demo)))
    print("Latchkey demo stopped.", flush=True)
