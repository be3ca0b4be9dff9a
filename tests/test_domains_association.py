"""Tenants reached by their own domain (Host), and the association files their RP ID host
serves, in the formats Apple and Google document."""

from __future__ import annotations

import hashlib
from dataclasses import replace

import pytest
from litestar.testing import TestClient

from latchkey.errors import ConfigError
from latchkey.models import Tenant
from latchkey.runtime import Runtime
from latchkey.services import app_origins, apps, association, tenants
from tests.domain_proof import prove

FINGERPRINT = ":".join(f"{b:02X}" for b in hashlib.sha256(b"upload key").digest())
HOST = {"host": "id.localhost:8000"}


@pytest.fixture
def claimed(rt: Runtime, tenant_and_secret: tuple[Tenant, str]) -> Tenant:
    tenant = tenant_and_secret[0]
    assert tenants.set_domains(rt, tenant.id, ["ID.LocalHost."]) == ["id.localhost"]
    prove(rt, tenant.id, "id.localhost")
    return tenant


def test_discovery_by_host(client: TestClient, claimed: Tenant) -> None:
    config = client.get("/.well-known/openid-configuration", headers=HOST).json()
    assert config["issuer"] == "http://id.localhost:8000/"
    assert config["jwks_uri"] == "http://id.localhost:8000/.well-known/jwks.json"
    assert config["token_endpoint"] == "http://id.localhost:8000/oauth/token"
    assert client.get("/.well-known/jwks.json", headers=HOST).json()["keys"]
    by_path = client.get(f"/t/{claimed.id}/.well-known/openid-configuration").json()
    assert by_path["issuer"].endswith(f"/t/{claimed.id}/")


def test_native_challenge_by_host(client: TestClient, rt: Runtime, claimed: Tenant) -> None:
    app, _ = apps.create(rt, claimed.id, name="Mobile", grant_types=[apps.PASSKEY_GRANT])
    answer = client.post("/passkey/challenge", json={"client_id": app.client_id}, headers=HOST)
    assert answer.status_code == 200, answer.text
    assert answer.json()["authn_params_public_key"]["rpId"] == "localhost"


def test_unknown_host(client: TestClient, claimed: Tenant) -> None:
    answer = client.get("/.well-known/openid-configuration", headers={"host": "other.test"})
    assert answer.status_code == 404
    assert answer.json()["error"] == "tenant_not_found"


def test_domains_must_belong_to_the_rp_id(
    rt: Runtime, tenant_and_secret: tuple[Tenant, str], claimed: Tenant
) -> None:
    with pytest.raises(ConfigError, match="RP ID"):
        tenants.set_domains(rt, claimed.id, ["evil.example"])
    other, _ = tenants.create(rt, rp_id="localhost", origins=["http://localhost:5002"])
    with pytest.raises(ConfigError, match="another tenant"):
        tenants.set_domains(rt, other.id, ["id.localhost"])
    assert tenants.domains(rt, claimed.id) == ["id.localhost"]


def test_apple_app_site_association(client: TestClient, rt: Runtime, claimed: Tenant) -> None:
    apps.create(rt, claimed.id, name="iOS", ios_team_id="ABCDE12345", ios_bundle_id="com.ex.app")
    apps.create(rt, claimed.id, name="Web", app_type="regular_web")
    answer = client.get("/.well-known/apple-app-site-association", headers=HOST)
    assert answer.status_code == 200  # served directly: Apple follows no redirects
    assert answer.headers["content-type"] == "application/json"
    assert answer.json() == {"webcredentials": {"apps": ["ABCDE12345.com.ex.app"]}}


def test_asset_links(client: TestClient, rt: Runtime, claimed: Tenant) -> None:
    apps.create(
        rt,
        claimed.id,
        name="Android",
        android_package="com.ex.app",
        android_fingerprints=[FINGERPRINT.lower()],
    )
    answer = client.get("/.well-known/assetlinks.json", headers=HOST)
    assert answer.headers["content-type"] == "application/json"
    [statement] = answer.json()
    assert statement["relation"] == [
        "delegate_permission/common.handle_all_urls",
        "delegate_permission/common.get_login_creds",
    ]
    assert statement["target"] == {
        "namespace": "android_app",
        "package_name": "com.ex.app",
        "sha256_cert_fingerprints": [FINGERPRINT],
    }
    # The origin Credential Manager will report for this app is accepted by ceremonies.
    origins = app_origins.expected(rt, claimed)
    assert app_origins.android_origin(FINGERPRINT) in origins


def test_related_origins_document(client: TestClient, claimed: Tenant) -> None:
    # Every origin of a localhost tenant shares one registrable domain: no list is needed.
    assert client.get("/.well-known/webauthn", headers=HOST).status_code == 404
    spread = replace(claimed, origins=("https://shop.example.com", "https://shop.example.co.uk"))
    assert association.related_origins(spread) == {
        "origins": ["https://shop.example.com", "https://shop.example.co.uk"]
    }
    same = replace(claimed, origins=("https://a.example.com", "https://b.example.com"))
    assert association.related_origins(same) is None


def test_related_origins_are_validated(rt: Runtime) -> None:
    make = lambda related: tenants.create(  # noqa: E731
        rt, rp_id="localhost", origins=["http://localhost:5002"], related_origins=related
    )
    with pytest.raises(ConfigError, match="on the RP ID"):
        make(["http://localhost:3000"])
    with pytest.raises(ConfigError, match="https"):
        make(["http://shop.example"])
    with pytest.raises(ConfigError, match="5 registrable domains"):
        make([f"https://shop{i}.example" for i in range(6)])
    tenant, _ = make(["https://shop.example.com", "https://www.shop.example.co.uk"])
    assert tenant.related_origins == ("https://shop.example.com", "https://www.shop.example.co.uk")


def test_related_origin_signs_up_and_is_published(
    client: TestClient, rt: Runtime, tenant_and_secret: tuple[Tenant, str], claimed: Tenant
) -> None:
    from tests.web_parties import Backend, Browser

    related = "https://shop.example.com"
    tenants.update(rt, claimed.id, related_origins=[related])
    document = client.get("/.well-known/webauthn", headers=HOST).json()
    assert document == {"origins": ["http://localhost:5002", related]}
    # A browser on the related origin may call the client API and register for the RP ID.
    backend, browser = Backend(client, tenant_and_secret[1]), Browser(client, claimed.id)
    token = backend.track("shopper", "add-passkey")["token"]
    begun = browser.http.post(
        "/v1/client/user-authenticators/passkey/registration-options",
        json={},
        headers={**browser.headers(token), "origin": related},
    )
    assert begun.status_code == 200, begun.text
    assert begun.headers["access-control-allow-origin"] == related
    created = browser.authenticator.create(begun.json()["options"], origin=related)
    done = browser.http.post(
        "/v1/client/user-authenticators/passkey",
        json={"registrationCredential": created, "challengeId": begun.json()["challengeId"]},
        headers={**browser.headers(token), "origin": related},
    )
    assert done.status_code == 200, done.text
