"""Native-app passkeys and OpenID Connect, per tenant under /t/{tenantId}/: the signup and login
challenges, the token endpoint, userinfo, discovery and the JWKS. Errors are OAuth-shaped
({"error", "error_description"}, see api/errors.py)."""

from __future__ import annotations

import binascii
from base64 import b64decode
from dataclasses import dataclass
from functools import partial
from typing import Annotated, Any
from urllib.parse import unquote_plus

import msgspec
from anyio import to_thread
from litestar import Response, Router, get, post
from litestar.params import FromPath, JSONBody

from latchkey.api.context import AnyRequest, request_meta, runtime
from latchkey.models import App, Tenant
from latchkey.oauth2 import refresh_grant, webauthn_grant
from latchkey.oauth2.errors import (
    InvalidClient,
    InvalidRequest,
    InvalidToken,
    UnauthorizedClient,
    UnsupportedGrantType,
)
from latchkey.oidc import discovery, userinfo
from latchkey.services import apps, native, signing_keys, tenants
from latchkey.services.runtime import Runtime

Text = Annotated[str, msgspec.Meta(max_length=255)]


@dataclass(frozen=True)
class Site:
    """The tenant a request reached and the issuer URL it is known by there."""

    tenant: Tenant
    issuer: str


def _site(request: AnyRequest, tenant_id: str) -> Site:
    rt = runtime(request)
    return Site(tenants.get(rt, tenant_id), f"{rt.public_url}/t/{tenant_id}/")


def _client(rt: Runtime, site: Site, client_id: Any, client_secret: Any) -> App:
    """The calling app, authenticated when it is confidential (RFC 6749 §2.3)."""
    if not isinstance(client_id, str) or not client_id:
        raise InvalidClient("client_id is required")
    try:
        app = apps.get(rt, client_id)
    except apps.AppNotFound as exc:
        raise InvalidClient("unknown client") from exc
    if app.tenant_id != site.tenant.id:
        raise InvalidClient("unknown client")
    try:
        apps.authenticate(app, client_secret if isinstance(client_secret, str) else None)
    except apps.InvalidClient as exc:
        raise InvalidClient(exc.message) from exc
    return app


class SignupBody(msgspec.Struct, kw_only=True):
    client_id: Text
    client_secret: Text | None = None
    realm: Annotated[str, msgspec.Meta(max_length=64)] | None = None
    user_profile: dict[str, Any]
    user_metadata: dict[str, Any] | None = None


@post("/passkey/register", status_code=200, sync_to_thread=True)
def signup_challenge(
    tenant_id: FromPath[str], data: JSONBody[SignupBody], request: AnyRequest
) -> dict[str, Any]:
    rt, site = runtime(request), _site(request, tenant_id)
    app = _client(rt, site, data.client_id, data.client_secret)
    _require_passkey_grant(app)
    begun = native.signup_challenge(
        rt,
        site.tenant,
        app,
        realm=data.realm,
        user_profile=data.user_profile,
        user_metadata=data.user_metadata,
    )
    return {"authn_params_public_key": begun.options, "auth_session": begun.auth_session}


class LoginBody(msgspec.Struct, kw_only=True):
    client_id: Text
    client_secret: Text | None = None
    realm: Annotated[str, msgspec.Meta(max_length=64)] | None = None
    # Our extension: an identifier narrows allowCredentials to that user's passkeys.
    identifier: dict[str, str] | None = None


@post("/passkey/challenge", status_code=200, sync_to_thread=True)
def login_challenge(
    tenant_id: FromPath[str], data: JSONBody[LoginBody], request: AnyRequest
) -> dict[str, Any]:
    rt, site = runtime(request), _site(request, tenant_id)
    app = _client(rt, site, data.client_id, data.client_secret)
    _require_passkey_grant(app)
    begun = native.login_challenge(
        rt, site.tenant, app, realm=data.realm, identifier=data.identifier
    )
    return {"authn_params_public_key": begun.options, "auth_session": begun.auth_session}


def _require_passkey_grant(app: App) -> None:
    if webauthn_grant.GRANT_TYPE not in app.grant_types:
        raise UnauthorizedClient("the passkey grant is not enabled for this app")


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
        user, _, password = b64decode(value.strip(), validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise InvalidClient("the Basic credentials are not readable") from exc
    # RFC 6749 §2.3.1: both parts are form-urlencoded before base64.
    return unquote_plus(user), unquote_plus(password)


def _token(request: AnyRequest, tenant_id: str, params: dict[str, Any]) -> dict[str, Any]:
    rt, site = runtime(request), _site(request, tenant_id)
    basic_id, basic_secret = _basic_credentials(request)
    app = _client(
        rt, site, params.get("client_id") or basic_id, params.get("client_secret") or basic_secret
    )
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
        if "refresh_token" not in app.grant_types:
            raise UnauthorizedClient("the refresh_token grant is not enabled for this app")
        return refresh_grant.exchange(
            rt,
            tenant=site.tenant,
            app=app,
            issuer=site.issuer,
            refresh_token=str(params.get("refresh_token") or ""),
            scope=params.get("scope"),
        )
    if not grant_type:
        raise InvalidRequest("grant_type is required")
    raise UnsupportedGrantType(f"grant_type {str(grant_type)[:80]!r} is not supported")


@post("/oauth/token", status_code=200)
async def token(tenant_id: FromPath[str], request: AnyRequest) -> Response[dict[str, Any]]:
    params = await _token_params(request)
    answer = await to_thread.run_sync(partial(_token, request, tenant_id, params))
    # RFC 6749 §5.1: token responses must not be cached.
    return Response(answer, headers={"cache-control": "no-store", "pragma": "no-cache"})


@get("/userinfo", sync_to_thread=True)
def user_info(tenant_id: FromPath[str], request: AnyRequest) -> dict[str, Any]:
    scheme, _, value = (request.headers.get("authorization") or "").partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise InvalidToken("send the access token as a Bearer token")
    site = _site(request, tenant_id)
    return userinfo.claims(runtime(request), site.tenant, site.issuer, value.strip())


@get("/.well-known/openid-configuration", sync_to_thread=True)
def openid_configuration(tenant_id: FromPath[str], request: AnyRequest) -> dict[str, Any]:
    return discovery.metadata(_site(request, tenant_id).issuer)


@get("/.well-known/jwks.json", sync_to_thread=True)
def jwks(tenant_id: FromPath[str], request: AnyRequest) -> dict[str, Any]:
    site = _site(request, tenant_id)
    return signing_keys.jwks(runtime(request), site.tenant.id)


router = Router(
    path="/t/{tenant_id:str}",
    tags=["native apps and OpenID Connect"],
    route_handlers=[
        signup_challenge,
        login_challenge,
        token,
        user_info,
        openid_configuration,
        jwks,
    ],
)
