"""The demo portal: an app with no login UI of its own. It signs users in through an identity
pool's hosted pages with OpenID Connect (authorization code + PKCE), using Authlib's OAuth 2.0
client, checks the ID token against the tenant's JWKS with joserfc, and shows the user and the
token's claims — what any OIDC relying party would do against Latchkey.

Sessions are kept in this process's memory (a demo; a real app would use its own store)."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from html import escape
from typing import Any

import httpx2
from authlib.integrations.httpx_client import AsyncOAuth2Client
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from litestar import Litestar, MediaType, Request, get
from litestar.datastructures import Cookie, State
from litestar.response import Redirect, Response

from latchkey.demo.pages import layout
from latchkey.web import favicon

SESSION_COOKIE = "demo_portal_session"


@dataclass(frozen=True)
class PortalConfig:
    issuer: str  # https://latchkey.example/t/{tenantId}/ (ends with /)
    client_id: str
    url: str  # where this portal listens, e.g. http://localhost:5003
    pool: str

    @property
    def redirect_uri(self) -> str:
        return f"{self.url}/callback"


@dataclass
class Sessions:
    """Login attempts (state → verifier, nonce) and signed-in sessions, by random ids."""

    pending: dict[str, dict[str, str]] = field(default_factory=dict)
    signed_in: dict[str, dict[str, Any]] = field(default_factory=dict)


async def _metadata(state: State) -> dict[str, Any]:
    found: dict[str, Any] | None = state.get("metadata")
    if found is None:
        config: PortalConfig = state.config
        async with httpx2.AsyncClient(timeout=10) as http:
            answer = await http.get(f"{config.issuer}.well-known/openid-configuration")
            answer.raise_for_status()
            found = answer.json()
        state.metadata = found
    return found


def _client(config: PortalConfig) -> AsyncOAuth2Client:
    return AsyncOAuth2Client(
        client_id=config.client_id,
        redirect_uri=config.redirect_uri,
        scope="openid profile email offline_access",
        code_challenge_method="S256",
        token_endpoint_auth_method="none",  # noqa: S106 (a public client: PKCE, no secret)
    )


@get("/", media_type=MediaType.HTML)
async def home(request: Request[Any, Any, Any], state: State) -> str:
    sessions: Sessions = state.sessions
    session = sessions.signed_in.get(request.cookies.get(SESSION_COOKIE, ""))
    if session is None:
        body = (
            "<p>This app has no login page of its own: it sends you to Latchkey's hosted pages"
            " and gets you back with an ID token.</p>"
            '<p><a href="/login" id="sign-in">Sign in</a></p>'
        )
        return layout("Demo portal", body)
    claims = session["claims"]
    who = claims.get("email") or claims.get("preferred_username") or claims["sub"]
    body = (
        f'<p id="signed-in">Signed in as <strong>{escape(str(who))}</strong>.</p>'
        "<h2>ID token claims</h2>"
        f'<pre id="claims">{escape(json.dumps(claims, indent=2, sort_keys=True))}</pre>'
        "<h2>userinfo</h2>"
        f'<pre id="userinfo">{escape(json.dumps(session["userinfo"], indent=2, sort_keys=True))}'
        "</pre>"
        '<p><a href="/logout" id="sign-out">Sign out</a></p>'
    )
    return layout("Demo portal", body)


@get("/login")
async def login(state: State) -> Redirect:
    config: PortalConfig = state.config
    sessions: Sessions = state.sessions
    metadata = await _metadata(state)
    verifier = secrets.token_urlsafe(48)
    nonce = secrets.token_urlsafe(16)
    async with _client(config) as client:
        url, login_state = client.create_authorization_url(
            metadata["authorization_endpoint"],
            code_verifier=verifier,
            nonce=nonce,
            pool=config.pool,
        )
    sessions.pending[login_state] = {"verifier": verifier, "nonce": nonce}
    return Redirect(url)


def _error_page(message: str) -> Response[str]:
    page = layout("Demo portal", f'<p class="error" id="error">{escape(message)}</p>')
    return Response(page, status_code=400, media_type=MediaType.HTML)


@get("/callback", media_type=MediaType.HTML)
async def callback(request: Request[Any, Any, Any], state: State) -> Response[str] | Redirect:
    config: PortalConfig = state.config
    sessions: Sessions = state.sessions
    params = request.query_params
    pending = sessions.pending.pop(params.get("state", ""), None)
    if pending is None:
        return _error_page("Unknown or reused state: start the sign-in again.")
    if "error" in params:
        return _error_page(f"The provider said: {params['error']}")
    metadata = await _metadata(state)
    async with _client(config) as client:
        token = await client.fetch_token(
            metadata["token_endpoint"], code=params.get("code"), code_verifier=pending["verifier"]
        )
        claims = await _verified_claims(metadata, config, token["id_token"], pending["nonce"])
        userinfo = (await client.get(metadata["userinfo_endpoint"])).json()
    session_id = secrets.token_urlsafe(24)
    sessions.signed_in[session_id] = {
        "claims": claims,
        "userinfo": userinfo,
        "id_token": token["id_token"],
    }
    cookie = Cookie(key=SESSION_COOKIE, value=session_id, httponly=True, samesite="lax")
    return Redirect("/", cookies=[cookie])


async def _verified_claims(
    metadata: dict[str, Any], config: PortalConfig, id_token: str, nonce: str
) -> dict[str, Any]:
    """OpenID Connect Core §3.1.3.7: signature by the issuer's keys, iss, aud, exp, nonce."""
    async with httpx2.AsyncClient(timeout=10) as http:
        keys = KeySet.import_key_set((await http.get(metadata["jwks_uri"])).json())
    try:
        decoded = jwt.decode(id_token, keys)
        jwt.JWTClaimsRegistry(
            iss={"essential": True, "value": config.issuer},
            aud={"essential": True, "value": config.client_id},
            nonce={"essential": True, "value": nonce},
            exp={"essential": True},
        ).validate(decoded.claims)
    except JoseError as exc:
        raise ValueError(f"the ID token is not valid: {exc}") from exc
    return dict(decoded.claims)


@get("/logout")
async def logout(request: Request[Any, Any, Any], state: State) -> Redirect:
    """RP-initiated logout: end Latchkey's SSO session too, then come back here."""
    config: PortalConfig = state.config
    sessions: Sessions = state.sessions
    session = sessions.signed_in.pop(request.cookies.get(SESSION_COOKIE, ""), None)
    metadata = await _metadata(state)
    gone = Cookie(key=SESSION_COOKIE, value="", max_age=0)
    if session is None or "end_session_endpoint" not in metadata:
        return Redirect("/", cookies=[gone])
    query = httpx2.QueryParams(
        id_token_hint=session["id_token"],
        post_logout_redirect_uri=f"{config.url}/",
        client_id=config.client_id,
    )
    return Redirect(f"{metadata['end_session_endpoint']}?{query}", cookies=[gone])


def portal_app(config: PortalConfig) -> Litestar:
    return Litestar(
        route_handlers=[home, login, callback, logout, *favicon.handlers],
        state=State({"config": config, "sessions": Sessions()}),
        logging_config=None,
    )
