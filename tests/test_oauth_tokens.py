"""Signing keys, ID and access tokens verified by an independent JOSE library (PyJWT) against
the published JWKS, key rotation, and refresh token rotation with reuse detection."""

from __future__ import annotations

from typing import Any

import jwt as pyjwt
import pytest

from latchkey.errors import ConfigError
from latchkey.models import App, Tenant, User
from latchkey.oauth2 import audiences, refresh_grant, tokens
from latchkey.oauth2.errors import InvalidGrant, InvalidScope
from latchkey.runtime import Runtime
from latchkey.services import apps, signing_keys, users
from latchkey.store import refresh_tokens as refresh_store
from tests.support.clock import FakeClock

ISSUER = "http://localhost:8000/t/x/"


@pytest.fixture
def party(rt: Runtime, tenant_and_secret: tuple[Tenant, str]) -> tuple[Tenant, App, User]:
    tenant, _ = tenant_and_secret
    app, _ = apps.create(rt, tenant.id, name="Mobile")
    with rt.transaction() as conn:
        user = users.ensure(conn, rt, tenant, "user-1", {"username": "ada"})
    return tenant, app, user


def _issue(rt: Runtime, party: tuple[Tenant, App, User], scope: str | None = None) -> Any:
    tenant, app, user = party
    grant = tokens.Grant(
        tenant=tenant,
        app=app,
        user=user,
        scope=tokens.parse_scope(scope),
        amr=("webauthn", "swk"),
        auth_time=rt.now(),
        issuer=ISSUER,
    )
    with rt.transaction() as conn:
        return tokens.issue(conn, rt, grant)


def _verify(rt: Runtime, tenant: Tenant, token: str, audience: str) -> dict[str, Any]:
    """PyJWT, with only the published JWKS: what a relying app does."""
    header = pyjwt.get_unverified_header(token)
    [jwk] = [k for k in signing_keys.jwks(rt, tenant.id)["keys"] if k["kid"] == header["kid"]]
    key = pyjwt.PyJWK(jwk).key
    claims: dict[str, Any] = pyjwt.decode(
        token, key, algorithms=["ES256", "RS256"], audience=audience, issuer=ISSUER
    )
    return claims


def test_id_and_access_tokens_verify_with_the_jwks(
    rt: Runtime, party: tuple[Tenant, App, User]
) -> None:
    tenant, app, user = party
    answer = _issue(rt, party)
    assert answer["token_type"] == "Bearer"
    assert answer["scope"] == "openid"  # no scope sent: openid, so there is an ID token
    assert "refresh_token" not in answer
    claims = _verify(rt, tenant, answer["id_token"], app.client_id)
    assert claims["sub"] == user.external_id
    assert claims["amr"] == ["webauthn", "swk"]
    assert claims["exp"] - claims["iat"] == answer["expires_in"]
    # RFC 9068: the API the token is for; the tenant's own when the app registered none.
    api = audiences.tenant_audience(rt.public_url, tenant.id)
    access = _verify(rt, tenant, answer["access_token"], api)
    assert access["client_id"] == app.client_id
    assert pyjwt.get_unverified_header(answer["access_token"])["typ"] == "at+jwt"


def test_another_tenants_keys_do_not_verify(
    rt: Runtime, party: tuple[Tenant, App, User], tenant_and_secret: tuple[Tenant, str]
) -> None:
    from latchkey.services import tenants

    other, _ = tenants.create(rt, rp_id="localhost", origins=["http://localhost:5002"])
    signing_keys.rotate(rt, other.id)
    answer = _issue(rt, party)
    kid = pyjwt.get_unverified_header(answer["id_token"])["kid"]
    assert kid not in [k["kid"] for k in signing_keys.jwks(rt, other.id)["keys"]]


def test_rotation_keeps_the_old_key_until_its_tokens_expire(
    rt: Runtime, clock: FakeClock, party: tuple[Tenant, App, User]
) -> None:
    tenant, app, _ = party
    before = _issue(rt, party)
    old_kid = pyjwt.get_unverified_header(before["id_token"])["kid"]
    new_kid = signing_keys.rotate(rt, tenant.id, "RS256")
    after = _issue(rt, party)
    assert pyjwt.get_unverified_header(after["id_token"])["kid"] == new_kid
    assert pyjwt.get_unverified_header(after["id_token"])["alg"] == "RS256"
    published = [k["kid"] for k in signing_keys.jwks(rt, tenant.id)["keys"]]
    assert published == [new_kid, old_kid]
    _verify(rt, tenant, before["id_token"], app.client_id)  # still verifies
    clock.advance(seconds=signing_keys.SIGNED_TOKEN_LIFETIME.total_seconds() + 1)
    assert [k["kid"] for k in signing_keys.jwks(rt, tenant.id)["keys"]] == [new_kid]


def test_private_keys_are_sealed(rt: Runtime, party: tuple[Tenant, App, User]) -> None:
    tenant = party[0]
    _issue(rt, party)
    with rt.engine.connect() as conn:
        from sqlalchemy import text

        sealed = conn.execute(text("SELECT sealed_private_key FROM signing_keys")).scalar()
    assert b"PRIVATE KEY" not in bytes(sealed)
    stranger = Runtime(engine=rt.engine, clock=rt.clock, master_key=b"\x00" * 32)
    with pytest.raises(ConfigError, match="master key"), stranger.transaction() as conn:
        signing_keys.signer(conn, stranger, tenant.id)


def test_refresh_rotation_and_reuse_detection(rt: Runtime, party: tuple[Tenant, App, User]) -> None:
    tenant, app, _ = party
    first = _issue(rt, party, "openid offline_access")
    assert first["refresh_token"].startswith(tokens.REFRESH_PREFIX)

    def refresh(token: str, scope: str | None = None) -> dict[str, Any]:
        return refresh_grant.exchange(
            rt, tenant=tenant, app=app, issuer=ISSUER, refresh_token=token, scope=scope
        )

    second = refresh(first["refresh_token"])
    assert second["refresh_token"] != first["refresh_token"]
    with pytest.raises(InvalidScope):
        refresh(second["refresh_token"], "openid offline_access email")
    # The failed widening did not use the token up.
    third = refresh(second["refresh_token"], "openid offline_access")
    # Replaying the first token revokes the family, so the newest token dies too.
    with pytest.raises(InvalidGrant, match="already used"):
        refresh(first["refresh_token"])
    with pytest.raises(InvalidGrant, match="revoked"):
        refresh(third["refresh_token"])
    with rt.transaction() as conn:
        row = refresh_store.get(conn, tokens.token_hash(third["refresh_token"]))
    assert row.revoked_at is not None


def test_refresh_token_of_another_app_is_refused(
    rt: Runtime, party: tuple[Tenant, App, User]
) -> None:
    tenant, _, _ = party
    given = _issue(rt, party, "offline_access")
    other, _ = apps.create(rt, tenant.id, name="Other")
    with pytest.raises(InvalidGrant, match="not valid"):
        refresh_grant.exchange(
            rt,
            tenant=tenant,
            app=other,
            issuer=ISSUER,
            refresh_token=given["refresh_token"],
            scope=None,
        )
