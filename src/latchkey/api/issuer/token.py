"""The token endpoint (RFC 6749 §3.2: the authorization code, refresh token and passkey grants)
and token revocation (RFC 7009). The client authenticates in the body or with HTTP Basic; a
refused Basic client gets 401 with a Basic challenge."""

from __future__ import annotations

from functools import partial
from typing import Any
from urllib.parse import unquote_plus

import msgspec
from anyio import to_thread
from litestar import Response, post

from latchkey.api import errors
from latchkey.api.auth import basic_pair
from latchkey.api.context import AnyRequest, request_meta, runtime
from latchkey.api.site import Site, site_of
from latchkey.models import App
from latchkey.oauth2 import (
    audiences,
    clients,
    refresh_grant,
    revocation,
    webauthn_grant,
)
from latchkey.oauth2.errors import (
    InvalidClient,
    InvalidRequest,
    RetryWithCodes,
    UnsupportedGrantType,
    oauth_error,
)
from latchkey.oauth2.server import OAuthCall
from latchkey.oidc import provider
from latchkey.runtime import Runtime


async def _token_params(request: AnyRequest) -> dict[str, Any]:
    """The token request's parameters, as JSON (the mobile SDKs) or a form (RFC 6749)."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "application/json":
        try:
            params = msgspec.json.decode(await request.body())
        except msgspec.DecodeError as exc:
            raise InvalidRequest("the request body is not valid JSON") from exc
        if not isinstance(params, dict):
            raise InvalidRequest("the request body must be a JSON object")
        return params
    if content_type == "application/x-www-form-urlencoded":
        return {k: v for k, v in (await request.form()).items()}
    raise InvalidRequest("send the token request as JSON or application/x-www-form-urlencoded")


def _basic_credentials(request: AnyRequest) -> tuple[str | None, str | None]:
    scheme, _, value = (request.headers.get("authorization") or "").partition(" ")
    if scheme.lower() != "basic":
        return None, None
    try:
        user, password = basic_pair(value)
    except ValueError as exc:
        raise InvalidClient("the Basic credentials are not readable") from exc
    # RFC 6749 §2.3.1: both parts are form-urlencoded before base64.
    return unquote_plus(user), unquote_plus(password)


def _calling_app(request: AnyRequest, rt: Runtime, site: Site, params: dict[str, Any]) -> App:
    """The client, authenticated by its id (and secret) in the body or HTTP Basic."""
    basic_id, basic_secret = _basic_credentials(request)
    return clients.authenticate(
        rt,
        site.tenant,
        params.get("client_id") or basic_id,
        params.get("client_secret") or basic_secret,
    )


def _code_exchange(request: AnyRequest, site: Site, params: dict[str, Any]) -> dict[str, Any]:
    """Authlib's code grant authenticates the client itself (a secret, or PKCE alone)."""
    headers = {"Authorization": request.headers.get("authorization") or ""}
    pairs = [(str(k), str(v)) for k, v in params.items() if isinstance(v, str | int)]
    call = OAuthCall("POST", f"{site.issuer}oauth/token", pairs, headers)
    rt, meta = runtime(request), request_meta(request)
    answer = provider.exchange(rt, tenant=site.tenant, issuer=site.issuer, call=call, meta=meta)
    if answer.status != 200:
        body = answer.body if isinstance(answer.body, dict) else {}
        raise oauth_error(body.get("error", "invalid_request"), body.get("error_description"))
    return dict(answer.body)


def _token(request: AnyRequest, params: dict[str, Any]) -> dict[str, Any]:
    rt, site = runtime(request), site_of(request)
    if params.get("grant_type") == "authorization_code":
        return _code_exchange(request, site, params)
    app = _calling_app(request, rt, site, params)
    grant_type = params.get("grant_type")
    if grant_type == webauthn_grant.GRANT_TYPE:
        return webauthn_grant.exchange(
            rt,
            tenant=site.tenant,
            app=app,
            issuer=site.issuer,
            params=params,
            meta=request_meta(request),
        )
    if grant_type == "refresh_token":
        clients.require_grant(app, "refresh_token", "refresh_token")
        return refresh_grant.exchange(
            rt,
            tenant=site.tenant,
            app=app,
            issuer=site.issuer,
            refresh_token=str(params.get("refresh_token") or ""),
            scope=params.get("scope"),
            audience=audiences.asked(params),
        )
    if not grant_type:
        raise InvalidRequest("grant_type is required")
    raise UnsupportedGrantType(f"grant_type {str(grant_type)[:80]!r} is not supported")


@post("/oauth/token", status_code=200)
async def token(request: AnyRequest) -> Response[dict[str, Any]]:
    params = await _token_params(request)
    try:
        answer = await to_thread.run_sync(partial(_token, request, params))
    except InvalidClient as exc:
        return _client_refused(request, exc)
    except RetryWithCodes as exc:
        refused = errors.OAUTH.response(exc.status, exc.code, exc.message)
        return Response({**refused.content, **exc.fields}, status_code=refused.status_code)
    # RFC 6749 §5.1: token responses must not be cached.
    return Response(answer, headers={"cache-control": "no-store", "pragma": "no-cache"})


def _client_refused(request: AnyRequest, exc: InvalidClient) -> Response[Any]:
    """RFC 6749 §5.2: a client that tried HTTP Basic gets 401 with a Basic challenge."""
    tried_basic = (request.headers.get("authorization") or "").lower().startswith("basic ")
    headers = {"www-authenticate": 'Basic realm="oauth"'} if tried_basic else None
    return errors.OAUTH.response(exc.status, exc.code, exc.message, headers)


def _revoke(request: AnyRequest, params: dict[str, Any]) -> None:
    rt, site = runtime(request), site_of(request)
    app = _calling_app(request, rt, site, params)
    revocation.revoke(
        rt,
        tenant=site.tenant,
        app=app,
        issuer=site.issuer,
        token=params.get("token"),
        meta=request_meta(request),
    )


@post("/oauth/revoke", status_code=200)
async def revoke(request: AnyRequest) -> Response[bytes]:
    """RFC 7009 §2: the RFC's form body, or the JSON {client_id, token} that Auth0.Android's
    `revokeToken` and Auth0.swift's `revoke` send. 200 with an empty body (§2.2)."""
    params = await _token_params(request)
    try:
        await to_thread.run_sync(partial(_revoke, request, params))
    except InvalidClient as exc:
        return _client_refused(request, exc)
    return Response(b"", headers={"cache-control": "no-store", "pragma": "no-cache"})
