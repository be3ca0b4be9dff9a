"""Independent Python OAuth / OpenID Connect clients, unmodified, against a live Latchkey: PyPI
`oic` (pyoidc) as a confidential client with its defaults (discovery, the code flow, the ID
token checked against the JWKS, userinfo by POST), and `requests-oauthlib` as a public client
with PKCE, its tokens checked by PyJWT as an API would (RFC 9068), refresh, and revocation."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Any

import httpx
import jwt as pyjwt
import pytest
from oic.oauth2.message import ErrorResponse
from oic.oic import Client as PyoidcClient
from oic.oic.message import AccessTokenResponse, AuthorizationResponse, OpenIDSchema
from oic.utils.authn.client import CLIENT_AUTHN_METHOD
from requests_oauthlib import OAuth2Session

from tests.oidc_stage import API, CALLBACK, EMAIL, Stage, callback_query, stage


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stage]:
    with stage(tmp_path_factory.mktemp("oidc-clients")) as made:
        yield made


def test_pyoidc_code_flow_with_its_defaults(live: Stage) -> None:
    client = PyoidcClient(client_authn_method=CLIENT_AUTHN_METHOD)
    provider = client.provider_config(live.issuer)  # discovery, issuer checked
    assert provider["revocation_endpoint"] == f"{live.issuer}oauth/revoke"
    client.client_id = live.confidential_id
    client.client_secret = live.confidential_secret
    client.redirect_uris = [CALLBACK]
    state, nonce = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
    request = client.construct_AuthorizationRequest(
        request_args={
            "client_id": live.confidential_id,
            "response_type": "code",
            "scope": ["openid", "email", "profile"],
            "redirect_uri": CALLBACK,
            "state": state,
            "nonce": nonce,
        }
    )
    callback = live.sign_in(request.request(client.authorization_endpoint))
    answer = client.parse_response(
        AuthorizationResponse, info=callback.split("?", 1)[1], sformat="urlencoded"
    )
    assert answer["state"] == state
    # client_secret_basic; pyoidc verifies the ID token's signature (JWKS), iss, aud, nonce.
    tokens = client.do_access_token_request(
        state=state,
        request_args={"code": answer["code"], "redirect_uri": CALLBACK},
        authn_method="client_secret_basic",
    )
    assert isinstance(tokens, AccessTokenResponse), tokens
    id_token = tokens["id_token"]
    assert id_token["email"] == EMAIL
    assert id_token["nonce"] == nonce
    assert id_token["iss"] == live.issuer
    # pyoidc's default userinfo call is a POST with the token in the header (OIDC Core §5.3.1).
    info = client.do_user_info_request(state=state)
    assert isinstance(info, OpenIDSchema), info
    assert info["sub"] == id_token["sub"]
    assert info["email"] == EMAIL
    # A bad token: a 401 whose invalid_token pyoidc reads (RFC 6750 §3).
    bad = client.do_user_info_request(token="x.y.z", method="GET")
    assert isinstance(bad, ErrorResponse)
    assert bad["error"] == "invalid_token"


@pytest.fixture
def insecure_transport(monkeypatch: pytest.MonkeyPatch) -> None:
    # oauthlib insists on https unless told otherwise; the live server is http://localhost.
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")


def _jwks_key(live: Stage, token: str) -> Any:
    jwks = pyjwt.PyJWKClient(f"{live.issuer}.well-known/jwks.json")
    return jwks.get_signing_key_from_jwt(token).key


@pytest.mark.usefixtures("insecure_transport")
def test_requests_oauthlib_with_pkce_refresh_and_revocation(live: Stage) -> None:
    config = httpx.get(f"{live.issuer}.well-known/openid-configuration").json()
    session = OAuth2Session(
        live.public_id,
        redirect_uri=CALLBACK,
        scope=["openid", "email", "offline_access"],
        pkce="S256",
    )
    url, state = session.authorization_url(config["authorization_endpoint"], nonce="n-1")
    callback = live.sign_in(url)
    assert callback_query(callback)["state"] == state
    tokens = session.fetch_token(
        config["token_endpoint"],
        authorization_response=callback,
        include_client_id=True,
        resource=API,  # RFC 8707: the API this token is for
    )
    # The ID token for the app, the access token for the API (RFC 9068), both by PyJWT.
    id_claims = pyjwt.decode(
        tokens["id_token"],
        _jwks_key(live, tokens["id_token"]),
        algorithms=config["id_token_signing_alg_values_supported"],
        audience=live.public_id,
        issuer=live.issuer,
    )
    assert id_claims["email"] == EMAIL
    assert id_claims["nonce"] == "n-1"
    assert pyjwt.get_unverified_header(tokens["access_token"])["typ"] == "at+jwt"
    access = pyjwt.decode(
        tokens["access_token"],
        _jwks_key(live, tokens["access_token"]),
        algorithms=["ES256", "RS256"],
        audience=API,
        issuer=live.issuer,
    )
    assert access["sub"] == id_claims["sub"]
    assert access["client_id"] == live.public_id
    assert access["scope"] == "openid email offline_access"

    info = session.get(config["userinfo_endpoint"])
    assert info.status_code == 200
    assert info.json() == {"sub": id_claims["sub"], "email": EMAIL, "email_verified": False}

    refreshed = session.refresh_token(config["token_endpoint"], client_id=live.public_id)
    assert refreshed["refresh_token"] != tokens["refresh_token"]
    revoked = session.post(
        config["revocation_endpoint"],
        data={"token": refreshed["refresh_token"], "client_id": live.public_id},
    )
    assert (revoked.status_code, revoked.content) == (200, b"")
    again = session.post(
        config["token_endpoint"],
        data={
            "grant_type": "refresh_token",
            "refresh_token": refreshed["refresh_token"],
            "client_id": live.public_id,
        },
    )
    assert (again.status_code, again.json()["error"]) == (400, "invalid_grant")
