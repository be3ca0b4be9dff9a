"""The relying party a tenant's ceremonies verify against (services/app_origins.py) is built once
per cached tenant and cached apps, and follows their changes as before: a tenant's new origins
as soon as the tenant is reloaded, an app added in this process at once, one added elsewhere
within TTL_SECONDS; a browser's relying party never takes a native one's iOS origin."""

from __future__ import annotations

import time

import pytest

from latchkey.models import Tenant
from latchkey.runtime import Runtime
from latchkey.services import app_origins, apps, tenants
from tests.support.native import GRANT

WEB = "https://login.example.com"
IOS = "https://example.com"
DEVICE = {"ios_team_id": "ABCDE12345", "ios_bundle_id": "com.example.app"}


@pytest.fixture
def tenant(rt: Runtime) -> Tenant:
    made, _ = tenants.create(rt, rp_id="example.com", origins=[WEB])
    return made


def _origins(rt: Runtime, tenant_id: str, *, native: bool = False) -> tuple[str, ...]:
    return app_origins.relying_party(rt, tenants.get(rt, tenant_id), native=native).origins


def test_a_tenant_s_new_origins_apply_once_it_is_reloaded(rt: Runtime, tenant: Tenant) -> None:
    assert _origins(rt, tenant.id) == (WEB,)
    tenants.update(rt, tenant.id, origins=["https://www.example.com"])
    assert _origins(rt, tenant.id) == ("https://www.example.com",)


def test_an_app_added_here_applies_at_once(rt: Runtime, tenant: Tenant) -> None:
    assert _origins(rt, tenant.id, native=True) == (WEB,)
    apps.create(rt, tenant.id, name="Mobile", grant_types=[GRANT], **DEVICE)
    assert _origins(rt, tenant.id, native=True) == (WEB, IOS)


def test_an_app_added_elsewhere_applies_within_the_ttl(
    rt: Runtime, tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert _origins(rt, tenant.id, native=True) == (WEB,)
    with monkeypatch.context() as elsewhere:  # another process: this one's cache is not told
        elsewhere.setattr(app_origins, "forget", lambda *_: None)
        apps.create(rt, tenant.id, name="Mobile", grant_types=[GRANT], **DEVICE)
    assert _origins(rt, tenant.id, native=True) == (WEB,)
    later = time.monotonic() + app_origins.TTL_SECONDS + 1
    monkeypatch.setattr(time, "monotonic", lambda: later)
    assert _origins(rt, tenant.id, native=True) == (WEB, IOS)


def test_a_browser_is_never_given_the_native_ios_origin(rt: Runtime, tenant: Tenant) -> None:
    apps.create(rt, tenant.id, name="Mobile", grant_types=[GRANT], **DEVICE)
    for _ in range(2):  # built, then kept: each for its own kind of ceremony
        assert _origins(rt, tenant.id, native=True) == (WEB, IOS)
        assert _origins(rt, tenant.id) == (WEB,)
