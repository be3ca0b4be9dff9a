"""The demo's tenant and where its three servers listen."""

from __future__ import annotations

from dataclasses import dataclass

from latchkey.models import App, Tenant
from latchkey.runtime import Runtime
from latchkey.services import api_keys, apps, pools, tenants

DEMO_TENANT_NAME = "Latchkey demo"
PORTAL_APP_NAME = "Demo portal"


@dataclass(frozen=True)
class DemoConfig:
    """What the demo's login server and web app know: Latchkey's address, the tenant id (public,
    for the browser) and a secret key (private, for the app backends)."""

    latchkey_url: str
    tenant_id: str
    secret: str
    login_url: str
    app_url: str
    # The OIDC demo portal and its client id (a public client: PKCE).
    portal_url: str = ""
    portal_client_id: str = ""
    # Where to load the vendor's browser SDK from instead of Latchkey's (to try drop-in use).
    vendor_sdk_url: str | None = None


def local(port: int) -> str:
    # localhost, not 127.0.0.1: the passkeys' RP ID is `localhost`, which browsers treat as secure.
    return f"http://localhost:{port}"


def ensure_demo_tenant(
    rt: Runtime, *, latchkey_port: int, login_port: int, app_port: int, portal_port: int = 5003
) -> DemoConfig:
    """Find or make the demo tenant (RP ID localhost, both demo origins) and give the demo
    backends a fresh secret key: keys are shown once, so each demo run makes its own."""
    origins = [local(login_port), local(app_port), local(latchkey_port)]
    found = [t for t in tenants.list_all(rt) if t.name == DEMO_TENANT_NAME]
    tenant: Tenant
    if found:
        tenant = tenants.update(rt, found[0].id, origins=origins)
        secret = api_keys.issue_for(rt, tenant.id)
    else:
        tenant, secret = tenants.create(
            rt, rp_id="localhost", rp_name="Latchkey demo", name=DEMO_TENANT_NAME, origins=origins
        )
    portal = _portal_app(rt, tenant, local(portal_port))
    return DemoConfig(
        latchkey_url=local(latchkey_port),
        tenant_id=tenant.id,
        secret=secret,
        login_url=local(login_port),
        app_url=local(app_port),
        portal_url=local(portal_port),
        portal_client_id=portal.client_id,
    )


def _portal_app(rt: Runtime, tenant: Tenant, portal_url: str) -> App:
    """The OIDC client of the demo portal, with its redirect URIs on this run's port."""
    uris = [f"{portal_url}/callback", f"{portal_url}/"]
    found = [a for a in apps.list_for(rt, tenant.id) if a.name == PORTAL_APP_NAME]
    if found:
        return apps.update(rt, found[0].client_id, redirect_uris=uris)
    made, _ = apps.create(
        rt,
        tenant.id,
        name=PORTAL_APP_NAME,
        app_type="regular_web",
        redirect_uris=uris,
        grant_types=["authorization_code", "refresh_token"],
    )
    pools.configure(rt, tenant.id, "default", {"display_name": "Latchkey demo"})
    return made
