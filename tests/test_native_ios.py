"""iOS apps: iOS reports `clientDataJSON.origin` as `https://<rp id>` for an app associated with
the RP ID, so a tenant with iOS apps accepts that origin for native ceremonies without the
operator listing it, even when its web origins are a subdomain of the RP ID (as Auth0.swift
sign-up and sign-in meet it). Browsers are still held to the tenant's own origins."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from litestar.testing import TestClient

from latchkey.cli import main
from latchkey.models import App, Tenant
from latchkey.runtime import Runtime
from latchkey.services import app_origins, apps, tenants
from tests.ceremony_client import row_counts
from tests.support.native import GRANT, NativeApp

IOS_ORIGIN = "https://example.com"


@pytest.fixture
def tenant(rt: Runtime) -> Tenant:
    made, _ = tenants.create(rt, rp_id="example.com", origins=["https://login.example.com"])
    return made


def _app(rt: Runtime, tenant: Tenant, **device: str) -> App:
    made, _ = apps.create(rt, tenant.id, name="Mobile", grant_types=[GRANT], **device)
    return made


def test_ios_app_signs_up_and_in_with_the_rp_id_origin(
    client: TestClient, rt: Runtime, tenant: Tenant
) -> None:
    app = _app(rt, tenant, ios_team_id="ABCDE12345", ios_bundle_id="com.example.app")
    iphone = NativeApp(client, tenant, app, IOS_ORIGIN)
    signed_up = iphone.sign_up("ios@example.com")
    assert signed_up.status_code == 200, signed_up.text
    signed_in = iphone.sign_in()
    assert signed_in.status_code == 200, signed_in.text


def test_without_ios_apps_the_rp_id_origin_is_refused(
    client: TestClient, rt: Runtime, tenant: Tenant
) -> None:
    app = _app(rt, tenant, android_package="com.example.app")
    iphone = NativeApp(client, tenant, app, IOS_ORIGIN)
    before = row_counts(rt.engine)
    answer = iphone.sign_up("ios@example.com")
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"] == "invalid_grant"
    assert "origin" in answer.json()["error_description"]
    assert row_counts(rt.engine)["users"] == before["users"]


def test_browsers_are_held_to_the_tenant_origins(rt: Runtime, tenant: Tenant) -> None:
    _app(rt, tenant, ios_team_id="ABCDE12345", ios_bundle_id="com.example.app")
    assert IOS_ORIGIN in app_origins.expected(rt, tenant, native=True)
    assert IOS_ORIGIN not in app_origins.expected(rt, tenant)


def test_app_show_lists_the_ios_origin(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = ["--database-url", f"sqlite:///{tmp_path / 'cli.db'}"]
    made = ["tenant", "create", "--rp-id", "example.com", "--origin", "https://login.example.com"]
    assert main([*made, "--json", *db]) == 0
    tenant_id = json.loads(capsys.readouterr().out)["id"]
    device = ["--ios-team-id", "ABCDE12345", "--ios-bundle-id", "com.example.app"]
    assert main(["app", "create", tenant_id, "--name", "iOS", *device, "--json", *db]) == 0
    client_id = json.loads(capsys.readouterr().out)["client_id"]
    assert main(["app", "show", client_id, "--json", *db]) == 0
    assert json.loads(capsys.readouterr().out)["ios_origins"] == [IOS_ORIGIN]
