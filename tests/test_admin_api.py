"""The management API (/admin/v1) on SQLite and PostgreSQL: every endpoint, the operator-token
boundaries (a tenant's token neither reads nor changes another tenant; only global tokens make
tenants and global tokens), an audit event for each change, and hostile input refused whole."""

from __future__ import annotations

from typing import Any

import pytest
from litestar.testing import TestClient
from sqlalchemy import func, select

from latchkey.models import Tenant
from latchkey.runtime import Runtime
from latchkey.services import apps, operators
from latchkey.store.tables import events
from latchkey.store.tables import tenants as tenant_table
from tests.support.admin import World, admin_events, make_world
from tests.support.admin import bearer as _bearer
from tests.web_parties import ORIGIN, Backend, Browser


@pytest.fixture
def world(rt: Runtime, client: TestClient, tenant_and_secret: tuple[Tenant, str]) -> World:
    return make_world(rt, client, tenant_and_secret)


def _tenant_count(rt: Runtime) -> int:
    with rt.read() as conn:
        return int(conn.execute(select(func.count()).select_from(tenant_table)).scalar_one())


def test_every_call_needs_a_live_operator_token(world: World) -> None:
    for headers in ({}, {"authorization": "Bearer nope"}, {"authorization": "Basic eDo="}):
        answer = world.call("GET", "/tenants", headers)
        assert answer.status_code == 401
        assert answer.json()["error"] == "invalid_operator_token"
        assert answer.json()["message"]
    # A tenant's secret key is not an operator token.
    assert world.call("GET", "/me", _bearer(world.a_secret)).status_code == 401
    me = world.call("GET", "/me", world.a_op).json()
    assert me["tenantId"] == world.a.id
    assert me["name"] == "a-ops"
    operators.revoke_token(world.rt, me["id"])
    assert world.call("GET", "/me", world.a_op).status_code == 401


def test_tenants_created_and_updated_with_the_cli_rules_and_audited(world: World) -> None:
    body = {"rpId": "example.com", "origins": ["https://app.example.com"], "rpName": "Ex"}
    made = world.call("POST", "/tenants", world.root, json=body)
    assert made.status_code == 201, made.text
    tenant_id, secret = made.json()["tenant"]["id"], made.json()["secretKey"]
    assert secret.startswith("lk_secret_")
    assert world.call("GET", f"/tenants/{tenant_id}", world.root).json()["rpName"] == "Ex"
    (created,) = admin_events(world.rt, tenant_id)
    assert created.kind == "admin.tenant.created"
    assert secret not in str(created.detail)
    assert created.detail["actor"]["name"] == "root"
    assert created.user_agent == "admin-test/1.0"

    # The origin rule of services/origins.py, with its reason; nothing is written.
    count = _tenant_count(world.rt)
    bad = world.call("POST", "/tenants", world.root, json={**body, "origins": ["http://x.com"]})
    assert bad.status_code == 400
    assert bad.json()["error"] == "invalid_configuration"
    assert "https" in bad.json()["message"]
    assert _tenant_count(world.rt) == count

    change = {"rpName": "Example", "policy": {"userVerification": "required"}}
    updated = world.call("PATCH", f"/tenants/{tenant_id}", world.root, json=change)
    assert updated.status_code == 200, updated.text
    assert updated.json()["policy"]["user_verification"] == "required"
    last = admin_events(world.rt, tenant_id)[-1]
    assert last.kind == "admin.tenant.updated"
    assert (last.detail["before"]["rpName"], last.detail["after"]["rpName"]) == ("Ex", "Example")


def test_a_tenant_refused_names_every_bad_origin_and_each_one_listed_twice(world: World) -> None:
    """One answer lists every problem (as `problems`, beside the joined `message` older
    clients read), so a list of origins is fixed in one pass; nothing is written."""
    count = _tenant_count(world.rt)
    origins = ["http://x.com", "https://app.example.com", "https://evil.test",
               "https://app.example.com", "https://A.example.com"]  # fmt: skip
    bad = world.call(
        "POST", "/tenants", world.root, json={"rpId": "example.com", "origins": origins}
    )
    assert bad.status_code == 400
    reasons = [
        "origin 'http://x.com' uses http://, allowed only for localhost; use https://",
        "origin 'https://evil.test': host 'evil.test' is neither the RP ID 'example.com' nor a"
        " subdomain of it (an origin on another domain is a related origin: --related-origin)",
        "origin 'https://A.example.com' must be lower-case, as browsers serialize it",
        "origin 'https://app.example.com' is listed twice",
    ]
    assert bad.json() == {
        "error": "invalid_configuration",
        "message": "; ".join(reasons),
        "problems": [{"field": "origins", "message": reason} for reason in reasons],
    }
    assert _tenant_count(world.rt) == count
    # One problem: the answer as before, with its one problem listed.
    alone = world.call(
        "PATCH", f"/tenants/{world.a.id}", world.root, json={"origins": [ORIGIN, ORIGIN]}
    )
    assert alone.status_code == 400
    assert alone.json()["message"] == f"origin {ORIGIN!r} is listed twice"
    assert alone.json()["problems"] == [{"field": "origins", "message": alone.json()["message"]}]


def test_attestation_policy_through_the_management_api(world: World) -> None:
    """Issue 19: a preset, then fields over it; AAGUIDs as the API takes them; its rules."""
    yubikey = "fa2b99dc-9e39-4257-8f92-4a30d23c4118"
    change = {
        "policy": {
            "policyPreset": "high-assurance",
            "minCertification": "L2",
            "aaguidAllow": [yubikey.upper()],
            "attestationAnchors": {"tpm": "none"},
        }
    }
    updated = world.call("PATCH", f"/tenants/{world.a.id}", world.root, json=change)
    assert updated.status_code == 200, updated.text
    policy = updated.json()["policy"]
    assert policy["attestation"] == "direct"
    assert policy["allow_synced"] is False
    assert policy["status_rule"] == "block"
    assert policy["min_certification"] == "L2"
    assert policy["aaguid_allow"] == [yubikey]
    assert policy["attestation_anchors"] == {"tpm": "none"}
    for body, says in [
        ({"policyPreset": "lax"}, "policy preset 'lax' is not one of consumer, high-assurance"),
        ({"attestation": "none"}, "needs attestation direct or enterprise"),
        ({"attestationAnchors": {"packed": ["not a pem"]}}, "not a PEM certificate"),
    ]:
        answer = world.call("PATCH", f"/tenants/{world.a.id}", world.root, json={"policy": body})
        assert answer.status_code == 400, answer.text
        assert answer.json()["error"] == "invalid_configuration"
        assert says in answer.json()["message"]
    assert world.call("GET", f"/tenants/{world.a.id}", world.root).json()["policy"] == policy


def test_a_failed_change_writes_nothing_not_even_part_of_it(world: World) -> None:
    before = world.call("GET", f"/tenants/{world.a.id}", world.root).json()
    # A valid name with a domain off the RP ID: the name must not be saved either.
    change = {"name": "Renamed", "domains": ["login.elsewhere.com"]}
    answer = world.call("PATCH", f"/tenants/{world.a.id}", world.root, json=change)
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_configuration"
    assert world.call("GET", f"/tenants/{world.a.id}", world.root).json() == before
    assert admin_events(world.rt, world.a.id) == []


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({"rpName": "x", "surprise": 1}, "invalid_request"),
        ({"rpName": 7}, "invalid_request"),
        ({"origins": ["https://a.localhost"] * 51}, "invalid_request"),
        ({"policy": {"timeoutMs": "soon"}}, "invalid_request"),
        ({"policy": {"attestation": "maybe"}}, "invalid_configuration"),
        ({"rpId": "EXAMPLE.com"}, "invalid_configuration"),
    ],
)
def test_hostile_tenant_bodies_get_a_clear_error(world: World, body: Any, error: str) -> None:
    answer = world.call("PATCH", f"/tenants/{world.a.id}", world.root, json=body)
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"] == error
    assert answer.json()["message"]
    raw = world.call("PATCH", f"/tenants/{world.a.id}", world.root, content=b"{not json")
    assert raw.status_code == 400
    assert raw.json()["error"] == "invalid_json"


def _b_paths(world: World) -> list[tuple[str, str, Any]]:
    """Every tenant endpoint, aimed at tenant B."""
    b = world.b.id
    app, _ = apps.create(world.rt, b, name="B app")
    user = f"/tenants/{b}/users/some-user"
    return [
        ("GET", f"/tenants/{b}", None),
        ("PATCH", f"/tenants/{b}", {"rpName": "stolen"}),
        ("PUT", f"/tenants/{b}/event-retention", {"days": 1}),
        ("PUT", f"/tenants/{b}/anonymous-actions", {"names": []}),
        ("GET", f"/tenants/{b}/apps", None),
        ("POST", f"/tenants/{b}/apps", {"name": "x"}),
        ("GET", f"/tenants/{b}/apps/{app.client_id}", None),
        ("PATCH", f"/tenants/{b}/apps/{app.client_id}", {"name": "x"}),
        ("DELETE", f"/tenants/{b}/apps/{app.client_id}", None),
        ("GET", f"/tenants/{b}/directories", None),
        ("POST", f"/tenants/{b}/directories", {"name": "d", "identifiers": {"email": "required"}}),
        ("GET", f"/tenants/{b}/directories/default", None),
        ("PATCH", f"/tenants/{b}/directories/default", {"identifiers": {"email": "optional"}}),
        ("GET", f"/tenants/{b}/pools/default", None),
        ("PATCH", f"/tenants/{b}/pools/default", {"bot_check": False}),
        ("GET", f"/tenants/{b}/api-keys", None),
        ("POST", f"/tenants/{b}/api-keys", None),
        ("DELETE", f"/tenants/{b}/api-keys/some-key", None),
        ("GET", f"/tenants/{b}/signing-keys", None),
        ("POST", f"/tenants/{b}/signing-keys/rotate", {}),
        ("GET", f"/tenants/{b}/users", None),
        ("GET", user, None),
        ("POST", user + "/disable", None),
        ("POST", user + "/enable", None),
        ("DELETE", user, None),
        ("GET", user + "/passkeys", None),
        ("PATCH", user + "/passkeys/p", {"name": "x"}),
        ("DELETE", user + "/passkeys/p", None),
        ("GET", f"/tenants/{b}/events", None),
        ("GET", f"/tenants/{b}/events/export", None),
        ("GET", f"/tenants/{b}/webhooks", None),
        ("POST", f"/tenants/{b}/webhooks", {"url": "https://hooks.example.com"}),
        ("GET", f"/tenants/{b}/webhook-deliveries", None),
        ("POST", f"/tenants/{b}/webhook-deliveries/d/redeliver", None),
    ]


def test_a_tenant_token_cannot_reach_another_tenant(world: World) -> None:
    calls, b_id = _b_paths(world), world.b.id
    before = world.call("GET", f"/tenants/{world.b.id}", world.root).json()
    for method, path, body in calls:
        answer = world.call(method, path, world.a_op, json=body)
        assert answer.status_code == 404, (method, path, answer.text)
        # The same answer as for an id that exists nowhere: no existence oracle.
        assert answer.json() == {"error": "tenant_not_found", "message": f"no tenant {b_id!r}"}
    assert world.call("GET", f"/tenants/{world.b.id}", world.root).json() == before
    assert admin_events(world.rt, world.b.id) == []
    listed = world.call("GET", "/tenants", world.a_op).json()
    assert [t["id"] for t in listed] == [world.a.id]
    # B's app through A's path: unknown, like any unknown id.
    app = world.call("GET", f"/tenants/{world.b.id}/apps", world.root).json()[0]
    stray = world.call("GET", f"/tenants/{world.a.id}/apps/{app['clientId']}", world.a_op)
    assert stray.status_code == 404
    assert stray.json()["error"] == "app_not_found"


def test_only_global_tokens_make_tenants_and_global_tokens(world: World) -> None:
    body = {"rpId": "example.com", "origins": ["https://example.com"]}
    refused = world.call("POST", "/tenants", world.a_op, json=body)
    assert refused.status_code == 403
    assert refused.json()["error"] == "global_operator_required"
    glob = world.call("POST", "/tokens", world.a_op, json={"name": "escalate"})
    assert glob.status_code == 403
    other = world.call("POST", "/tokens", world.a_op, json={"name": "x", "tenantId": world.b.id})
    assert other.status_code == 404
    own = world.call("POST", "/tokens", world.a_op, json={"name": "ci", "tenantId": world.a.id})
    assert own.status_code == 201
    assert own.json()["secret"].startswith("lk_op_")


def test_tokens_listed_by_prefix_and_revoked(world: World) -> None:
    made = world.call("POST", "/tokens", world.root, json={"name": "ci", "tenantId": world.a.id})
    token, secret = made.json()["token"], made.json()["secret"]
    listed = world.call("GET", "/tokens", world.root).json()
    assert {t["name"] for t in listed} == {"root", "a-ops", "ci"}
    assert secret not in str(listed)
    assert token["prefix"] == secret[:10]
    assert {t["name"] for t in world.call("GET", "/tokens", world.a_op).json()} == {"a-ops", "ci"}
    root_id = world.call("GET", "/me", world.root).json()["id"]
    assert world.call("GET", f"/tokens/{root_id}", world.a_op).status_code == 404
    assert world.call("DELETE", f"/tokens/{root_id}", world.a_op).status_code == 404
    assert world.call("GET", "/me", _bearer(secret)).status_code == 200
    revoked = world.call("DELETE", f"/tokens/{token['id']}", world.a_op)
    assert revoked.status_code == 200
    assert revoked.json()["revokedAt"]
    assert world.call("GET", "/me", _bearer(secret)).status_code == 401
    kinds = [e.kind for e in admin_events(world.rt, world.a.id)]
    assert kinds == ["admin.operator_token.created", "admin.operator_token.revoked"]
    # A global token has no tenant log; its row names who made it.
    glob = world.call("POST", "/tokens", world.root, json={"name": "g2"}).json()["token"]
    assert glob["tenantId"] is None
    assert glob["createdBy"] == f"token:{root_id}"


def test_apps_and_their_device_settings(world: World) -> None:
    base = f"/tenants/{world.a.id}/apps"
    made = world.call("POST", base, world.a_op, json={"name": "Web", "confidential": True})
    assert made.status_code == 201, made.text
    client_id, secret = made.json()["app"]["clientId"], made.json()["clientSecret"]
    assert secret.startswith("lk_cs_")
    assert secret not in world.call("GET", base, world.a_op).text
    assert made.json()["app"]["iosOrigins"] == []  # no iOS app yet
    settings = {
        "androidPackage": "com.example.app",
        "androidFingerprints": [":".join(["AB"] * 32)],
        "iosTeamId": "ABCDE12345",
        "iosBundleId": "com.example.app",
    }
    updated = world.call("PATCH", f"{base}/{client_id}", world.a_op, json=settings)
    assert updated.json()["androidOrigins"][0].startswith("android:apk-key-hash:")
    # What iOS reports as the origin: the tenant's RP ID, derived, so not to be written.
    assert updated.json()["iosOrigins"] == [f"https://{world.a.rp_id}"]
    assert world.call("GET", base, world.a_op).json()[0]["iosOrigins"] == ["https://localhost"]
    written = world.call(
        "PATCH", f"{base}/{client_id}", world.a_op, json={"iosOrigins": ["https://evil.example"]}
    )
    assert (written.status_code, written.json()["error"]) == (400, "invalid_request")
    bad = world.call("PATCH", f"{base}/{client_id}", world.a_op, json={"iosTeamId": "short"})
    assert bad.status_code == 400
    assert "team id" in bad.json()["message"]
    assert world.call("GET", f"{base}/{client_id}", world.a_op).json() == updated.json()
    assert world.call("DELETE", f"{base}/{client_id}", world.a_op).status_code == 200
    assert world.call("GET", f"{base}/{client_id}", world.a_op).status_code == 404
    kinds = [e.kind for e in admin_events(world.rt, world.a.id)]
    assert kinds == ["admin.app.created", "admin.app.updated", "admin.app.deleted"]
    assert secret not in str([e.detail for e in admin_events(world.rt, world.a.id)])


def test_directories_and_pools(world: World) -> None:
    base = f"/tenants/{world.a.id}"
    body = {"name": "customers", "identifiers": {"email": "required"}}
    assert world.call("POST", base + "/directories", world.a_op, json=body).status_code == 201
    again = world.call("POST", base + "/directories", world.a_op, json=body)
    assert again.status_code == 409
    assert again.json()["error"] == "directory_exists"
    names = [d["name"] for d in world.call("GET", base + "/directories", world.a_op).json()]
    assert names == ["default", "customers"]
    change = {"identifiers": {"email": "required", "username": "optional"}}
    updated = world.call("PATCH", base + "/directories/customers", world.a_op, json=change)
    assert updated.json()["identifiers"] == change["identifiers"]
    pool = world.call("PATCH", base + "/pools/customers", world.a_op, json={"bot_check": False})
    assert pool.status_code == 200
    assert pool.json()["settings"]["bot_check"] is False
    bad = world.call("PATCH", base + "/pools/customers", world.a_op, json={"max_passkeys": 0})
    assert bad.status_code == 400
    assert "max_passkeys" in bad.json()["message"]
    got = world.call("GET", base + "/pools/customers", world.a_op).json()
    assert got["settings"]["max_passkeys"] == 10
    kinds = [e.kind for e in admin_events(world.rt, world.a.id)]
    assert kinds == ["admin.directory.created", "admin.directory.updated", "admin.pool.updated"]


def test_pool_settings_refused_name_every_bad_field(world: World) -> None:
    """Every field is checked and each refusal names its field, as the portal's form shows
    them; the pool is left as it was."""
    path = f"/tenants/{world.a.id}/pools/default"
    before = world.call("GET", path, world.a_op).json()
    change = {
        "max_passkeys": 0,
        "bot_check_complexity": "lots",
        "self_registration": "yes",
        "display_name": "x" * 101,
        "email_sender": "not-an-address",
        "email_verification": "sometimes",
        "default_locale": "tlh",
        "branding": {"logo_url": "http://cdn.example.com/logo.png", "primary_color": "red"},
        "colour": "#fff",
    }
    bad = world.call("PATCH", path, world.a_op, json=change)
    assert bad.status_code == 400
    expected = [
        ("settings", "unknown pool settings: colour"),
        ("display_name", "display_name must be a string of at most 100 characters"),
        ("self_registration", "self_registration must be true or false"),
        ("max_passkeys", "max_passkeys must be 1 to 100"),
        ("branding.logo_url", "branding.logo_url must be an https:// URL or a path"),
        ("branding.primary_color", "branding.primary_color must look like #1a2b3c"),
        ("email_sender",
         "email_sender is not an e-mail address: An email address must have an @-sign."),
        ("email_verification", "email_verification must be one of optional, required, off"),
        ("default_locale", "default_locale must be one of en, de, fr, es, pt_BR, ja, ar"),
        ("bot_check_complexity", "bot_check_complexity must be 1000 to 10000000"),
    ]  # fmt: skip
    assert bad.json() == {
        "error": "invalid_request",
        "message": "; ".join(message for _, message in expected),
        "problems": [{"field": f, "message": message} for f, message in expected],
    }
    assert world.call("GET", path, world.a_op).json() == before


def test_api_keys_shown_once_and_revoked(world: World) -> None:
    base = f"/tenants/{world.a.id}/api-keys"
    made = world.call("POST", base, world.a_op)
    assert made.status_code == 201
    key, secret = made.json()["key"], made.json()["secret"]
    events_path = f"/api/v1/tenants/{world.a.id}/events"
    auth = {"authorization": f"Bearer {secret}"}
    assert world.client.get(events_path, headers=auth).status_code == 200
    listed = world.call("GET", base, world.a_op).json()
    assert len(listed) == 2
    assert secret not in str(listed)
    assert key["prefix"] == secret[:14]
    assert world.call("DELETE", f"{base}/{key['id']}", world.a_op).json()["revokedAt"]
    assert world.client.get(events_path, headers=auth).status_code == 401
    assert world.call("DELETE", f"{base}/nope", world.a_op).status_code == 404


def test_signing_keys_listed_and_rotated(world: World) -> None:
    base = f"/tenants/{world.a.id}/signing-keys"
    world.client.get(f"/t/{world.a.id}/.well-known/jwks.json")  # makes the first key
    (first,) = world.call("GET", base, world.a_op).json()
    assert first["state"] == "active"
    rotated = world.call("POST", base + "/rotate", world.a_op, json={"alg": "RS256"})
    assert rotated.status_code == 201, rotated.text
    states = {k["kid"]: (k["alg"], k["state"]) for k in rotated.json()}
    assert states[first["kid"]] == ("ES256", "published")
    assert sorted(states.values()) == [("ES256", "published"), ("RS256", "active")]
    bad = world.call("POST", base + "/rotate", world.a_op, json={"alg": "HS256"})
    assert bad.status_code == 400
    assert len(world.call("GET", base, world.a_op).json()) == 2


def test_users_found_viewed_disabled_and_deleted(world: World) -> None:
    backend, browser = Backend(world.client, world.a_secret), Browser(world.client, world.a.id)
    tracked = backend.track("alice", "add-passkey", email="Alice@Example.com")
    assert browser.sign_up(tracked["token"]).status_code == 200
    base = f"/tenants/{world.a.id}/users"
    (found,) = world.call("GET", base, world.a_op, params={"q": "alice@example.com"}).json()
    assert found["userId"] == "alice"
    assert not found["disabled"]
    assert world.call("GET", base, world.a_op, params={"q": "nobody"}).json() == []
    user = f"{base}/{found['id']}"
    detail = world.call("GET", user, world.a_op).json()
    (passkey,) = detail["passkeys"]

    disabled = world.call("POST", user + "/disable", world.a_op)
    assert disabled.status_code == 200
    assert disabled.json()["disabled"]
    refused = browser.sign_in()
    assert refused.status_code == 403
    assert refused.json()["errorCode"] == "user_disabled"
    with world.rt.read() as conn:
        last = conn.execute(
            select(events.c.reason).where(events.c.kind == "passkey.authentication")
        ).all()
    assert ("user_disabled",) in last
    assert world.call("POST", user + "/enable", world.a_op).json()["disabled"] is False
    assert browser.sign_in().status_code == 200

    renamed = world.call(
        "PATCH", f"{user}/passkeys/{passkey['id']}", world.a_op, json={"name": "Work laptop"}
    )
    assert renamed.json()["name"] == "Work laptop"
    assert world.call("DELETE", f"{user}/passkeys/{passkey['id']}", world.a_op).status_code == 200
    assert world.call("GET", user + "/passkeys", world.a_op).json() == []
    assert world.call("DELETE", user, world.a_op).status_code == 200
    assert world.call("GET", user, world.a_op).status_code == 404
    kinds = [e.kind for e in admin_events(world.rt, world.a.id)]
    assert kinds == [
        "admin.user.disabled",
        "admin.user.enabled",
        "admin.passkey.renamed",
        "admin.passkey.revoked",
        "admin.user.deleted",
    ]
    renamed_event = admin_events(world.rt, world.a.id)[2]
    assert renamed_event.detail["after"] == {"name": "Work laptop"}
    assert renamed_event.ip
    assert renamed_event.detail["actor"]["tenantId"] == world.a.id


def test_the_openapi_document_describes_an_apps_ios_origins(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    schema = document["components"]["schemas"]["AppOut"]
    assert "iosOrigins" in schema["required"]
    ios = schema["properties"]["iosOrigins"]
    assert (ios["type"], ios["items"]) == ("array", {"type": "string"})
    assert "iOS" in ios["description"]
