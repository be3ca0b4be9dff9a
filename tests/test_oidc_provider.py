"""The OpenID Connect provider: /authorize over the pools' hosted sign-in, PKCE, the code grant
at the token endpoint, userinfo, refresh and RP-initiated logout, each refusal with its
documented error and nothing written by a refused step."""

from __future__ import annotations

import base64
import secrets
from typing import Any

import pytest
from litestar.testing import TestClient
from sqlalchemy import func, select

from latchkey.models import App, Tenant
from latchkey.oidc import authorize
from latchkey.runtime import Runtime
from latchkey.services import apps, pools, tenants
from latchkey.store.tables import (
    authorization_codes,
    events,
    flows,
    metadata,
    refresh_tokens,
    sso_sessions,
)
from latchkey.testing.authenticator import SoftAuthenticator
from tests.support.clock import FakeClock
from tests.support.mail import code_and_link, mails
from tests.support.oidc import CALLBACK, HOME, Relying, make_app, redirected
from tests.support.pools import PoolBrowser, count, make_pool
from tests.web_parties import ORIGIN


@pytest.fixture
def tenant(tenant_and_secret: tuple[Tenant, str]) -> Tenant:
    return tenant_and_secret[0]


@pytest.fixture
def pool(rt: Runtime, tenant: Tenant) -> pools.Pool:
    return make_pool(rt, tenant, display_name="Example Customers")


@pytest.fixture
def app(rt: Runtime, tenant: Tenant) -> App:
    return make_app(rt, tenant)[0]


@pytest.fixture
def rp(client: TestClient, tenant: Tenant, app: App, pool: pools.Pool) -> Relying:
    return Relying(client, tenant, app, pool)


@pytest.fixture
def visitor(client: TestClient, tenant: Tenant, pool: pools.Pool) -> PoolBrowser:
    return PoolBrowser(client, tenant.id, pool.id)


def signed_out(client: TestClient, tenant: Tenant) -> None:
    client.cookies.delete(f"latchkey_sso_{tenant.id}")


def sign_in_through_pages(
    rp: Relying, visitor: PoolBrowser, clock: FakeClock, **overrides: Any
) -> dict[str, str]:
    """Authorize without a session: the sign-in page, a passkey, resume, the code."""
    where, query = redirected(rp.authorize(**overrides))
    clock.advance(seconds=1)
    assert where == f"/{rp.tenant.id}/identity/{rp.pool.id}/signin"
    flow = query["flow"]
    begun = visitor.post("login/webauthn/options", {"flow_id": flow})
    assert begun.status_code == 200, begun.text
    assertion = visitor.authenticator.get(begun.json()["publicKey"], origin=ORIGIN)
    done = visitor.post("login/webauthn/finish", assertion, flow=flow)
    assert done.status_code == 200, done.text
    resume = done.json()["redirect_to"]
    assert resume.startswith(f"/t/{rp.tenant.id}/authorize/resume?")
    back, params = redirected(rp.http.get(resume, follow_redirects=False))
    assert back == CALLBACK
    return params


def test_discovery_names_the_provider_endpoints(rp: Relying) -> None:
    found = rp.http.get(f"/t/{rp.tenant.id}/.well-known/openid-configuration").json()
    assert found["authorization_endpoint"] == f"{rp.issuer}authorize"
    assert found["end_session_endpoint"] == f"{rp.issuer}logout"
    assert found["code_challenge_methods_supported"] == ["S256"]
    # Only what authorize does (see the refusals below).
    assert found["prompt_values_supported"] == ["none", "login"]
    assert found["response_modes_supported"] == ["query"]
    assert found["request_parameter_supported"] is False
    assert found["request_uri_parameter_supported"] is False
    assert {"email_verified", "phone_number_verified"} <= set(found["claims_supported"])


def test_authorization_server_metadata_at_both_rfc_8414_places(rp: Relying) -> None:
    oidc = rp.http.get(f"/t/{rp.tenant.id}/.well-known/openid-configuration").json()
    # RFC 8414 §3.1: for the issuer http://host/t/{id}/ the well-known part comes first.
    inserted = rp.http.get(f"/.well-known/oauth-authorization-server/t/{rp.tenant.id}")
    appended = rp.http.get(f"/t/{rp.tenant.id}/.well-known/oauth-authorization-server")
    for answer in (inserted, appended):
        assert answer.status_code == 200, answer.text
        assert answer.json() == oidc
        assert answer.json()["issuer"] == rp.issuer
    unknown = rp.http.get("/.well-known/oauth-authorization-server/t/no-such-tenant")
    assert unknown.status_code == 404


def test_what_discovery_leaves_out_is_refused_not_ignored(rt: Runtime, rp: Relying) -> None:
    cases = {
        "request_not_supported": {"request": "eyJhbGciOiJub25lIn0.e30."},
        "request_uri_not_supported": {"request_uri": "https://app.example/request.jwt"},
        "invalid_request": {"response_mode": "form_post"},
    }
    for code, overrides in cases.items():
        back, params = redirected(rp.authorize(**overrides))
        assert back == CALLBACK
        assert params["error"] == code, params
        assert params["state"] == rp.state
    assert count(rt, flows) == 0
    assert redirected(rp.authorize(response_mode="query"))[0].endswith("/signin")


def test_code_flow_through_the_hosted_sign_in(
    rt: Runtime, rp: Relying, visitor: PoolBrowser, clock: FakeClock
) -> None:
    assert visitor.sign_up("ada@example.com").status_code == 200
    signed_out(rp.http, rp.tenant)

    params = sign_in_through_pages(rp, visitor, clock, login_hint="ada@example.com")
    assert params["state"] == rp.state
    tokens = rp.token(params["code"])
    assert tokens.status_code == 200, tokens.text
    assert tokens.headers["cache-control"] == "no-store"
    body = tokens.json()
    assert body["token_type"] == "Bearer"
    assert body["refresh_token"].startswith("lk_rt_")
    claims = rp.claims(body["id_token"])
    assert claims["email"] == "ada@example.com"
    assert claims["amr"] == ["webauthn", "swk"]
    assert claims["at_hash"]
    assert "auth_time" in claims

    info = rp.http.get(
        f"/t/{rp.tenant.id}/userinfo", headers={"authorization": f"Bearer {body['access_token']}"}
    )
    assert info.status_code == 200
    assert info.json()["sub"] == claims["sub"]

    refreshed = rp.http.post(
        f"/t/{rp.tenant.id}/oauth/token",
        data={
            "grant_type": "refresh_token",
            "client_id": rp.app.client_id,
            "refresh_token": body["refresh_token"],
        },
    )
    assert refreshed.status_code == 200, refreshed.text
    with rt.engine.connect() as conn:
        parked = conn.execute(select(flows).where(flows.c.kind == "authorization")).one()
        logged = conn.execute(select(events.c.kind, events.c.outcome, events.c.detail)).all()
    assert parked.state == "completed"
    oidc = [
        (e.kind, e.outcome, e.detail["client_id"]) for e in logged if e.kind.startswith("oidc.")
    ]
    assert oidc == [
        ("oidc.authorized", "success", rp.app.client_id),
        ("oidc.code_exchanged", "success", rp.app.client_id),
    ]


def test_a_signed_in_browser_gets_its_code_at_once(rp: Relying, visitor: PoolBrowser) -> None:
    assert visitor.sign_up("ada@example.com").status_code == 200
    back, params = redirected(rp.authorize())
    assert back == CALLBACK
    assert params["state"] == rp.state
    assert rp.claims(rp.token(params["code"]).json()["id_token"])["nonce"] == rp.nonce


def test_prompt_none_without_a_session_is_login_required(rt: Runtime, rp: Relying) -> None:
    back, params = redirected(rp.authorize(prompt="none"))
    assert back == CALLBACK
    assert params["error"] == "login_required"
    assert params["state"] == rp.state
    assert "code" not in params
    assert count(rt, flows) == 0


def test_prompt_login_and_max_age_ask_again_despite_a_session(
    rp: Relying, visitor: PoolBrowser, clock: FakeClock
) -> None:
    assert visitor.sign_up("ada@example.com").status_code == 200
    where, _ = redirected(rp.authorize(prompt="login"))
    assert where.endswith("/signin")
    clock.advance(seconds=120)
    where, _ = redirected(rp.authorize(max_age="60"))
    assert where.endswith("/signin")
    back, _ = redirected(rp.authorize(max_age="600"))
    assert back == CALLBACK
    # prompt=none with a session too old for max_age: the app hears so, no page is shown.
    back, params = redirected(rp.authorize(prompt="none", max_age="60"))
    assert params["error"] == "login_required"


def test_resume_needs_a_sign_in_after_the_request(rp: Relying, visitor: PoolBrowser) -> None:
    assert visitor.sign_up("ada@example.com").status_code == 200
    where, query = redirected(rp.authorize(prompt="login"))
    assert where.endswith("/signin")
    assert query["flow"]
    # Skip the sign-in page: the old session does not answer a prompt=login request.
    parked = rp.http.cookies.get("latchkey_authz")
    assert parked
    request_id = parked.split(".")[0]
    resume = f"/t/{rp.tenant.id}/authorize/resume?request={request_id}&pool={rp.pool.id}"
    back, params = redirected(rp.http.get(resume, follow_redirects=False))
    assert back == CALLBACK
    assert params["error"] == "login_required"
    assert params["state"] == rp.state
    # The parked request is used up.
    again = rp.http.get(resume, follow_redirects=False)
    assert again.status_code in (400, 403), again.text


def test_resume_from_another_browser_is_refused(
    rp: Relying, visitor: PoolBrowser, client: TestClient
) -> None:
    assert visitor.sign_up("ada@example.com").status_code == 200
    redirected(rp.authorize(prompt="login"))
    request_id = rp.http.cookies["latchkey_authz"].split(".")[0]
    rp.http.cookies.delete("latchkey_authz")
    resume = f"/t/{rp.tenant.id}/authorize/resume?request={request_id}&pool={rp.pool.id}"
    refused = rp.http.get(resume, follow_redirects=False)
    assert refused.status_code == 403, refused.text
    assert refused.json()["error"] == "invalid_request"


def test_redirect_uri_mismatch_is_never_redirected_to(rt: Runtime, rp: Relying) -> None:
    for uri in (
        "https://app.example/callback/",
        "https://evil.example/callback",
        CALLBACK + "?x=1",
    ):
        answer = rp.authorize(redirect_uri=uri)
        assert answer.status_code == 400, answer.text
        assert "location" not in answer.headers
        assert answer.json()["error"] == "invalid_request"
    page = rp.http.get(
        f"/t/{rp.tenant.id}/authorize",
        params={
            "response_type": "code",
            "client_id": rp.app.client_id,
            "redirect_uri": "https://evil.example/",
        },
        headers={"accept": "text/html"},
        follow_redirects=False,
    )
    assert page.status_code == 400
    assert "text/html" in page.headers["content-type"]
    assert 'id="error-code">invalid_request<' in page.text
    assert "content-security-policy" in page.headers
    missing = rp.authorize(redirect_uri=None)
    assert missing.status_code == 400
    assert count(rt, flows) == 0


def test_unknown_client_and_another_tenants_client(rt: Runtime, rp: Relying) -> None:
    other, _ = tenants.create(
        rt, rp_id="localhost", rp_name="Other", origins=["http://localhost:8000"]
    )
    foreign, _ = make_app(rt, other)
    for client_id in ("nope", foreign.client_id):
        answer = rp.authorize(client_id=client_id)
        assert answer.status_code in (400, 401), answer.text
        assert answer.json()["error"] == "invalid_client"
        assert "location" not in answer.headers


def test_pkce_is_required_and_s256_only_for_public_clients(rt: Runtime, rp: Relying) -> None:
    for overrides in (
        {"code_challenge": None, "code_challenge_method": None},
        {"code_challenge_method": "plain"},
        {"code_challenge_method": None},
        {"code_challenge": "short"},
    ):
        back, params = redirected(rp.authorize(**overrides))
        assert back == CALLBACK
        assert params["error"] == "invalid_request", (overrides, params)
        assert params["state"] == rp.state
    assert count(rt, flows) == 0


def test_other_authorization_request_errors_redirect_with_state(rp: Relying) -> None:
    cases = {
        "unsupported_response_type": {"response_type": "token"},
        "invalid_request": {"pool": "no-such-pool"},
    }
    for code, overrides in cases.items():
        back, params = redirected(rp.authorize(**overrides))
        assert back == CALLBACK
        assert params["error"] == code, params
        assert params["state"] == rp.state


def test_wrong_pkce_verifier_and_wrong_redirect_uri(
    rt: Runtime, rp: Relying, visitor: PoolBrowser
) -> None:
    assert visitor.sign_up("ada@example.com").status_code == 200
    _, params = redirected(rp.authorize())
    wrong = rp.token(params["code"], code_verifier=secrets.token_urlsafe(48))
    assert wrong.status_code == 400
    assert wrong.json()["error"] == "invalid_grant"
    missing = rp.token(params["code"], code_verifier=None)
    assert missing.json()["error"] == "invalid_request"
    elsewhere = rp.token(params["code"], redirect_uri=HOME)
    assert elsewhere.json()["error"] == "invalid_grant"
    assert count(rt, refresh_tokens) == 0
    # None of those used the code up.
    assert rp.token(params["code"]).status_code == 200


def test_code_replay_is_refused_and_revokes_what_it_issued(
    rt: Runtime, rp: Relying, visitor: PoolBrowser
) -> None:
    assert visitor.sign_up("ada@example.com").status_code == 200
    _, params = redirected(rp.authorize())
    first = rp.token(params["code"])
    assert first.status_code == 200
    replay = rp.token(params["code"])
    assert replay.status_code == 400
    assert replay.json()["error"] == "invalid_grant"
    refreshed = rp.http.post(
        f"/t/{rp.tenant.id}/oauth/token",
        data={
            "grant_type": "refresh_token",
            "client_id": rp.app.client_id,
            "refresh_token": first.json()["refresh_token"],
        },
    )
    assert refreshed.status_code == 400
    assert refreshed.json()["error"] == "invalid_grant"
    with rt.engine.connect() as conn:
        rows = conn.execute(select(refresh_tokens)).all()
    assert len(rows) == 1
    assert rows[0].revoked_at is not None
    with rt.engine.connect() as conn:
        replayed = conn.execute(select(events).where(events.c.reason == "code_replayed")).one()
    assert replayed.kind == "oidc.code_exchanged"


def test_an_expired_code_and_another_clients_code(
    rt: Runtime, rp: Relying, visitor: PoolBrowser, clock: FakeClock
) -> None:
    assert visitor.sign_up("ada@example.com").status_code == 200
    _, params = redirected(rp.authorize())
    other, _ = make_app(rt, rp.tenant)
    stolen = rp.token(params["code"], client_id=other.client_id)
    assert stolen.json()["error"] == "invalid_grant"
    clock.advance(seconds=61)
    late = rp.token(params["code"])
    assert late.status_code == 400
    assert late.json()["error"] == "invalid_grant"
    with rt.engine.connect() as conn:
        assert conn.execute(select(authorization_codes.c.used_at)).scalar_one() is None


def test_confidential_client_authenticates_at_the_token_endpoint(
    rt: Runtime, client: TestClient, tenant: Tenant, pool: pools.Pool, visitor: PoolBrowser
) -> None:
    confidential, secret = make_app(rt, tenant, confidential=True)
    assert secret
    rp = Relying(client, tenant, confidential, pool)
    assert visitor.sign_up("ada@example.com").status_code == 200
    # PKCE is optional for a confidential client; its secret is not.
    _, params = redirected(rp.authorize(code_challenge=None, code_challenge_method=None))
    anonymous = rp.token(params["code"], code_verifier=None)
    assert anonymous.status_code == 401
    assert anonymous.json()["error"] == "invalid_client"
    wrong = rp.token(params["code"], code_verifier=None, client_secret="lk_cs_wrong")
    assert wrong.status_code == 401
    basic = base64.b64encode(f"{confidential.client_id}:{secret}".encode()).decode()
    good = client.post(
        f"/t/{tenant.id}/oauth/token",
        data={"grant_type": "authorization_code", "code": params["code"], "redirect_uri": CALLBACK},
        headers={"authorization": f"Basic {basic}"},
    )
    assert good.status_code == 200, good.text


def test_logout_with_an_id_token_hint_ends_the_session(
    rt: Runtime, rp: Relying, visitor: PoolBrowser
) -> None:
    assert visitor.sign_up("ada@example.com").status_code == 200
    _, params = redirected(rp.authorize())
    id_token = rp.token(params["code"]).json()["id_token"]
    out = rp.http.get(
        f"/t/{rp.tenant.id}/logout",
        params={"id_token_hint": id_token, "post_logout_redirect_uri": HOME, "state": "s1"},
        follow_redirects=False,
    )
    assert out.status_code == 302
    assert out.headers["location"] == f"{HOME}?state=s1"
    with rt.engine.connect() as conn:
        assert conn.execute(select(sso_sessions.c.revoked_at)).scalar_one() is not None
        ended = conn.execute(select(events).where(events.c.kind == "oidc.signed_out")).one()
    assert ended.outcome == "success"
    _, after = redirected(rp.authorize(prompt="none"))
    assert after["error"] == "login_required"


def test_logout_without_a_hint_asks_first_and_never_redirects(
    rt: Runtime, rp: Relying, visitor: PoolBrowser
) -> None:
    assert visitor.sign_up("ada@example.com").status_code == 200
    asked = rp.http.get(f"/t/{rp.tenant.id}/logout", params={"post_logout_redirect_uri": HOME})
    assert asked.status_code == 200
    assert 'id="confirm-sign-out"' in asked.text
    with rt.engine.connect() as conn:
        assert conn.execute(select(sso_sessions.c.revoked_at)).scalar_one() is None
    done = rp.http.post(
        f"/t/{rp.tenant.id}/logout",
        data={"post_logout_redirect_uri": HOME, "confirm": "yes"},
        follow_redirects=False,
    )
    assert done.status_code == 200
    assert "signed out" in done.text
    with rt.engine.connect() as conn:
        assert conn.execute(select(sso_sessions.c.revoked_at)).scalar_one() is not None
    forged = rp.http.get(
        f"/t/{rp.tenant.id}/logout", params={"id_token_hint": "a.b.c"}, follow_redirects=False
    )
    assert forged.status_code == 400
    assert forged.json()["error"] == "invalid_request"


def test_recovery_from_the_sign_in_page_returns_to_the_app(
    rt: Runtime, rp: Relying, visitor: PoolBrowser, clock: FakeClock
) -> None:
    """Lost passkey: from the app's sign-in, recovery by the mailed code, a new passkey, and
    back to the app with a code (the mailed link, maybe in another browser, does not go back)."""
    assert visitor.sign_up("ada@example.com").status_code == 200
    signed_out(rp.http, rp.tenant)
    visitor.authenticator = SoftAuthenticator()  # the lost passkey is gone with its device
    _, query = redirected(rp.authorize())
    clock.advance(seconds=1)
    begun = visitor.post(
        "recovery/begin", {"identifier": "ada@example.com", "login_flow_id": query["flow"]}
    )
    assert begun.status_code == 200, begun.text
    code, _ = code_and_link(mails(rt)[-1])
    recovered = visitor.post("recovery/verify", {"code": code, "flow_id": begun.json()["flow_id"]})
    assert recovered.status_code == 200, recovered.text
    flow_id = recovered.json()["flow_id"]
    options = visitor.post("register/webauthn/begin", {"flow_id": flow_id})
    assert options.status_code == 200, options.text
    made = visitor.authenticator.create(options.json()["publicKey"], origin=ORIGIN)
    done = visitor.post("register/webauthn/finish", made, flow=flow_id)
    assert done.status_code == 200, done.text
    back, params = redirected(rp.http.get(done.json()["redirect_to"], follow_redirects=False))
    assert back == CALLBACK
    assert params["state"] == rp.state
    assert rp.token(params["code"]).status_code == 200


def test_recovery_ignores_a_sign_in_flow_the_browser_does_not_hold(
    rt: Runtime, rp: Relying, visitor: PoolBrowser, client: TestClient
) -> None:
    assert visitor.sign_up("ada@example.com").status_code == 200
    _, query = redirected(rp.authorize(prompt="login"))
    client.cookies.delete("latchkey_flow")
    begun = visitor.post(
        "recovery/begin", {"identifier": "ada@example.com", "login_flow_id": query["flow"]}
    )
    assert begun.status_code == 200
    with rt.engine.connect() as conn:
        recovery = conn.execute(select(flows).where(flows.c.kind == "recovery")).one()
    assert "return_to" not in recovery.context


HOSTILE = [
    {"redirect_uri": 'https://app.example/"cb\\'},
    {"client_id": '"\\'},
    {"client_id": "é" * 80},
    {"response_type": 'co"de'},
    {"scope": 'open"id \\'},
    {"prompt": "none login"},
    {"max_age": "abc"},
    {"max_age": "9" * 40},
    {"state": '"\\\x00'},
    {"code_challenge": '"' * 50},
    {"code_challenge_method": '"'},
    {"pool": '"' * 70},
    {"nonce": "é" * 500},
    {"login_hint": "x" * 5000},
]


@pytest.mark.parametrize("hostile", HOSTILE, ids=lambda h: next(iter(h)))
def test_hostile_authorization_requests_get_a_clear_answer(
    rt: Runtime, rp: Relying, hostile: dict[str, str]
) -> None:
    """Never a 500, never a redirect to an unregistered place; a refusal writes nothing."""
    answer = rp.authorize(**hostile)
    assert answer.status_code < 500, answer.text
    if answer.status_code == 302:
        where = answer.headers["location"]
        assert where.startswith((CALLBACK + "?", f"/{rp.tenant.id}/identity/")), where
    else:
        assert answer.status_code in (400, 401)
        assert set(answer.json()) == {"error", "error_description"}
        assert count(rt, flows) == 0


def test_hostile_token_and_logout_requests_get_a_clear_answer(rp: Relying) -> None:
    for form in (
        {"code": '"\\', "redirect_uri": '"'},
        {"client_id": '"\\'},
        {"code": "x", "code_verifier": '"' * 50},
        {"code": "x" * 5000},
    ):
        answer = rp.token(form.pop("code", "x"), **form)
        assert answer.status_code in (400, 401), answer.text
        assert set(answer.json()) == {"error", "error_description"}
    for query in (
        {"id_token_hint": '"' * 10},
        {"post_logout_redirect_uri": '"', "client_id": '"'},
        {"client_id": "nope", "post_logout_redirect_uri": "https://evil.example/"},
    ):
        answer = rp.http.get(f"/t/{rp.tenant.id}/logout", params=query, follow_redirects=False)
        assert answer.status_code in (200, 400), answer.text
        assert "location" not in answer.headers


def test_the_code_flow_names_its_api_at_the_token_request(
    rt: Runtime, rp: Relying, visitor: PoolBrowser
) -> None:
    """RFC 8707 §2.2: `resource` (or Auth0's `audience`) at the token request; an unregistered
    one is invalid_target and leaves the code unused; none is the app's first audience."""
    apps.update(rt, rp.app.client_id, audiences=["https://api.example.com", "https://b.example"])
    assert visitor.sign_up("ada@example.com").status_code == 200
    _, params = redirected(rp.authorize())
    refused = rp.token(params["code"], resource="https://evil.example")
    assert (refused.status_code, refused.json()["error"]) == (400, "invalid_target")
    answer = rp.token(params["code"], resource="https://b.example")
    assert answer.status_code == 200, answer.text
    assert rp.access_claims(answer.json()["access_token"])["aud"] == "https://b.example"
    _, params = redirected(rp.authorize())
    default = rp.token(params["code"]).json()["access_token"]
    assert rp.access_claims(default)["aud"] == "https://api.example.com"


def test_the_authorization_request_may_name_the_api(
    rt: Runtime, rp: Relying, visitor: PoolBrowser
) -> None:
    """Auth0's `audience` (or `resource`) at authorize: checked there (an unregistered one is
    redirected with invalid_target before any sign-in), carried by the code."""
    apps.update(rt, rp.app.client_id, audiences=["https://api.example.com", "https://b.example"])
    back, params = redirected(rp.authorize(audience="https://evil.example"))
    assert back == CALLBACK
    assert (params["error"], params["state"]) == ("invalid_target", rp.state)
    assert count(rt, flows) == 0
    assert visitor.sign_up("ada@example.com").status_code == 200
    _, params = redirected(rp.authorize(audience="https://b.example"))
    other = rp.token(params["code"], resource="https://api.example.com")
    assert (other.status_code, other.json()["error"]) == (400, "invalid_target")
    answer = rp.token(params["code"])  # the refusal left the code unused
    assert answer.status_code == 200, answer.text
    assert rp.access_claims(answer.json()["access_token"])["aud"] == "https://b.example"


def _rows(rt: Runtime) -> dict[str, int]:
    with rt.engine.connect() as conn:
        return {
            table.name: int(conn.execute(select(func.count()).select_from(table)).scalar_one())
            for table in metadata.sorted_tables
        }


def test_an_anonymous_authorization_request_writes_one_bounded_row(
    rt: Runtime, rp: Relying
) -> None:
    """The parked request is the only row: the sign-in page's flow is pending, stored by the
    browser's first POST there; a request too long to park is refused, writing nothing."""
    before = _rows(rt)
    where, query = redirected(rp.authorize(login_hint="ada@example.com", ui_locales="de"))
    assert where == f"/{rp.tenant.id}/identity/{rp.pool.id}/signin"
    after = _rows(rt)
    assert {name: n - before[name] for name, n in after.items() if n != before[name]} == {
        "flows": 1
    }
    with rt.engine.connect() as conn:
        [parked] = conn.execute(select(flows)).all()
    assert parked.kind == "authorization"
    assert parked.id != query["flow"]  # the page's flow is not stored yet
    assert parked.context["login_hint"] == "ada@example.com"
    # The sign-in page shows the hint and the language the request asked for, from the
    # pending flow, and writes nothing either.
    page = rp.http.get(f"{where}?flow={query['flow']}")
    assert page.status_code == 200
    assert 'value="ada@example.com"' in page.text
    assert '<html lang="de"' in page.text
    assert _rows(rt) == after

    long = rp.authorize(state="s" * authorize.MAX_PARKED_CHARS)
    back, params = redirected(long)
    assert (back, params["error"]) == (CALLBACK, "invalid_request")
    assert _rows(rt) == after
