"""The authorization endpoint (OpenID Connect Core §3.1.2) over the pools' hosted pages.

Authlib's grant checks the request (client, exact redirect URI, response type, scope, PKCE,
prompt). A browser whose SSO session fits (same pool, `max_age` met, no `prompt=login`) gets its
code at once. Otherwise the request is parked in a stored `authorization` flow bound to this
browser by a cookie, and the browser goes to the pool's sign-in page; once signed in there, the
page sends it to `authorize/resume`, which finishes the parked request exactly once and only for
a sign-in made after the request began.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode, urlsplit

from authlib.oauth2.rfc6749 import InvalidRequestError, OAuth2Error
from authlib.oidc.core.errors import LoginRequiredError
from sqlalchemy import Connection

from latchkey.errors import LatchkeyError
from latchkey.models import App, SsoSession, Tenant
from latchkey.oauth2 import audiences
from latchkey.oauth2.errors import InvalidTarget
from latchkey.oauth2.server import Answer, OAuthCall, Provider, readable_errors
from latchkey.oidc.provider import provider
from latchkey.runtime import RequestMeta, Runtime
from latchkey.services import pools
from latchkey.services.directories import DEFAULT_NAME
from latchkey.services.pools import flows, sso
from latchkey.store import users as user_store

AUTHORIZATION = flows.AUTHORIZATION
AUTHZ_COOKIE = "latchkey_authz"
POOL_FLOW_COOKIE = "latchkey_flow"
LIFETIME = timedelta(minutes=15)
# What an anonymous request may park (its parameters' characters): ample for any client's.
MAX_PARKED_CHARS = 8192


@dataclass(frozen=True)
class CookieSpec:
    name: str
    value: str
    path: str
    max_age: int


@dataclass(frozen=True)
class Outcome:
    """Where to send the browser (a redirect), or an error to show it: an invalid client or
    redirect URI must never be redirected to (RFC 6749 §4.1.2.1)."""

    location: str | None = None
    error: dict[str, str] | None = None
    cookies: list[CookieSpec] = field(default_factory=list)


def _path(issuer: str) -> str:
    return urlsplit(issuer).path


def _answer(answer: Answer, cookies: list[CookieSpec] | None = None) -> Outcome:
    if answer.location:
        return Outcome(location=answer.location, cookies=cookies or [])
    body = answer.body if isinstance(answer.body, dict) else {"error": "invalid_request"}
    return Outcome(error={k: str(v) for k, v in body.items()}, cookies=cookies or [])


def _failed(server: Provider, request: Any, error: OAuth2Error) -> Outcome:
    return _answer(server.handle_error_response(request, error))


def _fitting_session(
    conn: Connection, rt: Runtime, session: SsoSession | None, pool: pools.Pool, data: Any
) -> SsoSession | None:
    """The SSO session if it may answer this request without a new sign-in."""
    if session is None or "login" in str(data.get("prompt") or "").split():
        return None
    user = user_store.get(conn, session.tenant_id, session.user_id)
    if user is None or user.directory_id != pool.id or user.disabled_at is not None:
        return None
    max_age = str(data.get("max_age") or "")
    if max_age:
        if not max_age.isdigit() or len(max_age) > 9:
            return None
        if rt.now() - session.auth_time > timedelta(seconds=int(max_age)):
            return None
    return session


class RequestNotSupported(OAuth2Error):
    error = "request_not_supported"


class RequestUriNotSupported(OAuth2Error):
    error = "request_uri_not_supported"


class InvalidTargetError(OAuth2Error):
    error = "invalid_target"


def _unsupported(
    data: Any, app: App, public_url: str, redirect_uri: str, state: str | None
) -> OAuth2Error | None:
    """What discovery says authorize does not do is refused, not ignored: request objects
    (OIDC Core §6.3) and any response_mode but query; and an API audience the app did not
    register (RFC 8707 §2)."""
    where = {"redirect_uri": redirect_uri, "state": state}
    try:
        audiences.resolve(app, public_url, audiences.asked(data))
    except InvalidTarget as exc:
        return InvalidTargetError(exc.message, **where)
    except LatchkeyError as exc:
        return InvalidRequestError(exc.message, **where)
    if data.get("request"):
        return RequestNotSupported("request objects are not supported", **where)
    if data.get("request_uri"):
        return RequestUriNotSupported("request_uri is not supported", **where)
    if data.get("response_mode") not in (None, "", "query"):
        return InvalidRequestError("response_mode must be query", **where)
    return None


def _pool(rt: Runtime, tenant: Tenant, name: str | None) -> pools.Pool | None:
    try:
        return pools.get(rt, tenant.id, name or DEFAULT_NAME)
    except LatchkeyError:
        return None


def authorize(
    rt: Runtime,
    *,
    tenant: Tenant,
    issuer: str,
    call: OAuthCall,
    sso_token: str | None,
    meta: RequestMeta | None = None,
) -> Outcome:
    pool = _pool(rt, tenant, dict(call.params).get("pool"))
    with readable_errors(), rt.transaction() as conn:
        server = provider(rt, conn, tenant, issuer, meta=meta)
        request = server.create_oauth2_request(call)
        data = request.payload.data
        session = sso.find(conn, rt, tenant.id, sso_token)
        fitting = _fitting_session(conn, rt, session, pool, data) if pool else None
        try:
            grant = server.get_consent_grant(request, end_user=fitting)
        except OAuth2Error as error:
            return _failed(server, request, error)
        refused = _unsupported(
            data, request.client.app, rt.public_url, grant.redirect_uri, request.payload.state
        )
        if refused is not None:
            return _failed(server, request, refused)
        if pool is None:
            unknown = InvalidRequestError(
                "unknown pool", redirect_uri=grant.redirect_uri, state=request.payload.state
            )
            return _failed(server, request, unknown)
        if fitting is not None:
            return _answer(server.create_authorization_response(request, fitting, grant))
        if sum(len(k) + len(v) for k, v in call.params) > MAX_PARKED_CHARS:
            too_long = InvalidRequestError(
                "the authorization request is too long",
                redirect_uri=grant.redirect_uri,
                state=request.payload.state,
            )
            return _failed(server, request, too_long)
        return _park(conn, rt, tenant, issuer, pool, call)


def _park(
    conn: Connection, rt: Runtime, tenant: Tenant, issuer: str, pool: pools.Pool, call: OAuthCall
) -> Outcome:
    """Keep the request for after the sign-in, and send the browser to the sign-in page. One
    bounded row: the parked request, which also holds what the sign-in page needs (where to
    return, the hints); the page's sign-in flow is a pending one carrying from it, stored only
    by the browser's first POST there (services/pools/flows.py)."""
    data = dict(call.params)
    request_id = flows.new_flow_id()
    resume = f"{_path(issuer)}authorize/resume?" + urlencode(
        {"request": request_id, "pool": pool.id}
    )
    parked = flows.start(
        conn,
        rt,
        tenant_id=tenant.id,
        directory_id=pool.id,
        kind=AUTHORIZATION,
        context={
            "params": [list(p) for p in call.params],
            "return_to": resume,
            "login_hint": str(data.get("login_hint") or "")[:320],
            # OIDC Core §3.1.2.1: the end user's preferred languages for the pages.
            "ui_locales": str(data.get("ui_locales") or "")[:200],
        },
        lifetime=LIFETIME,
        flow_id=request_id,
    )
    login_id, login_cookie = flows.pending(
        rt, tenant_id=tenant.id, directory_id=pool.id, carry_from=parked.flow.id, lifetime=LIFETIME
    )
    pages = f"/{tenant.id}/identity/{pool.id}/"
    seconds = int(LIFETIME.total_seconds())
    return Outcome(
        location=f"{pages}signin?flow={login_id}",
        cookies=[
            CookieSpec(AUTHZ_COOKIE, parked.cookie, f"{_path(issuer)}authorize", seconds),
            CookieSpec(POOL_FLOW_COOKIE, login_cookie, pages, seconds),
        ],
    )


def resume(
    rt: Runtime,
    *,
    tenant: Tenant,
    issuer: str,
    request_id: str,
    pool_id: str,
    authz_cookie: str | None,
    sso_token: str | None,
    meta: RequestMeta | None = None,
) -> Outcome:
    """Finish a parked request once its browser has signed in (after the request began)."""
    pool = pools.get(rt, tenant.id, pool_id)
    spent = [CookieSpec(AUTHZ_COOKIE, "", f"{_path(issuer)}authorize", 0)]
    with readable_errors(), rt.transaction() as conn:
        parked = flows.load(
            conn,
            rt,
            tenant_id=tenant.id,
            directory_id=pool.id,
            kind=AUTHORIZATION,
            cookie=authz_cookie,
            flow_id=request_id,
        )
        params = [(str(k), str(v)) for k, v in parked.context["params"]]
        server = provider(rt, conn, tenant, issuer, meta=meta)
        request = server.create_oauth2_request(OAuthCall("GET", f"{issuer}authorize", params))
        session = sso.find(conn, rt, tenant.id, sso_token)
        signed_in = session is not None and session.auth_time > parked.created_at
        fitting = _fitting_session(conn, rt, session, pool, {}) if signed_in else None
        try:
            grant = server.get_consent_grant(request, end_user=fitting)
        except OAuth2Error as error:
            return _answer(server.handle_error_response(request, error), spent)
        flows.advance(conn, rt, parked, from_states=(flows.ACTIVE,), to_state=flows.COMPLETED)
        if fitting is None:
            # No sign-in since the request: tell the app rather than loop (OIDC Core §3.1.2.6).
            late = LoginRequiredError(
                "the user did not sign in",
                redirect_uri=grant.redirect_uri,
                state=request.payload.state,
            )
            return _answer(server.handle_error_response(request, late), spent)
        answer = server.create_authorization_response(request, fitting, grant)
        return _answer(answer, spent)
