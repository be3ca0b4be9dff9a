"""Native-app passkeys and OpenID Connect, per tenant under /t/{tenantId}/: the signup and login
challenges, the token endpoint, userinfo, discovery and the JWKS. Errors are OAuth-shaped
({"error", "error_description"}: errors.OAUTH)."""

from __future__ import annotations

from functools import partial
from typing import Annotated, Any
from urllib.parse import unquote_plus

import msgspec
from anyio import to_thread
from litestar import Response, Router, get, post, route
from litestar.params import JSONBody

from latchkey.api import errors, oidc
from latchkey.api.auth import basic_pair
from latchkey.api.context import AnyRequest, request_meta, runtime
from latchkey.api.site import Site, site_of
from latchkey.models import App
from latchkey.oauth2 import (
    audiences,
    bearer,
    clients,
    code_grant,
    refresh_grant,
    revocation,
    webauthn_grant,
)
from latchkey.oauth2.errors import (
    InvalidClient,
    InvalidRequest,
    InvalidToken,
    RetryWithCodes,
    UnsupportedGrantType,
    oauth_error,
)
from latchkey.oauth2.server import OAuthCall
from latchkey.oidc import discovery, userinfo
from latchkey.services import native, signing_keys
from latchkey.services.runtime import Runtime

Text = Annotated[str, msgspec.Meta(max_length=255)]


def _challenge_caller(
    request: AnyRequest, client_id: str, client_secret: str | None
) -> tuple[Runtime, Site, App]:
    """What both challenge endpoints check first: the rate limit, the app, its passkey grant."""
    rt, site = runtime(request), site_of(request)
    rt.limiter.limit("native-challenge", ip=request_meta(request).ip, tenant_id=site.tenant.id)
    app = clients.authenticate(rt, site.tenant, client_id, client_secret)
    webauthn_grant.require_enabled(app)
    return rt, site, app


class SignupBody(msgspec.Struct, kw_only=True):
    client_id: Text
    client_secret: Text | None = None
    realm: Annotated[str, msgspec.Meta(max_length=64)] | None = None
    user_profile: dict[str, Any]
    user_metadata: dict[str, Any] | None = None


@post("/passkey/register", status_code=200, sync_to_thread=True)
def signup_challenge(data: JSONBody[SignupBody], request: AnyRequest) -> dict[str, Any]:
    rt, site, app = _challenge_caller(request, data.client_id, data.client_secret)
    begun = native.signup_challenge(
        rt,
        site.tenant,
        app,
        realm=data.realm,
        user_profile=data.user_profile,
        user_metadata=data.user_metadata,
        sender=request.app.state.settings.mail_from,
    )
    answer = {"authn_params_public_key": begun.options, "auth_session": begun.auth_session}
    if begun.verification_required:
        # Auth0's shape: the app collects the mailed codes before the token request.
        answer["verification_required"] = list(begun.verification_required)
    return answer


class LoginBody(msgspec.Struct, kw_only=True):
    client_id: Text
    client_secret: Text | None = None
    realm: Annotated[str, msgspec.Meta(max_length=64)] | None = None
    # Accepted and ignored: discoverable options for everyone (no account enumeration).
    identifier: dict[str, str] | None = None


@post("/passkey/challenge", status_code=200, sync_to_thread=True)
def login_challenge(data: JSONBody[LoginBody], request: AnyRequest) -> dict[str, Any]:
    rt, site, app = _challenge_caller(request, data.client_id, data.client_secret)
    begun = native.login_challenge(
        rt, site.tenant, app, realm=data.realm, identifier=data.identifier
    )
    return {"authn_params_public_key": begun.options, "auth_session": begun.auth_session}


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
    answer = code_grant.exchange(rt, tenant=site.tenant, issuer=site.issuer, call=call, meta=meta)
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


def _bearer_token(request: AnyRequest, form: dict[str, str] | None) -> str:
    """RFC 6750 §2.1 (the Authorization header) or §2.2 (a form body's access_token); a
    request that uses both is refused (§2)."""
    scheme, _, value = (request.headers.get("authorization") or "").partition(" ")
    header = value.strip() if scheme.lower() == "bearer" else ""
    body = (form or {}).get("access_token", "")
    if header and body:
        raise InvalidRequest("send the access token in the header or the body, not both")
    if not header and not body:
        raise InvalidToken("send the access token as a Bearer token")
    return header or body


def _user_info(request: AnyRequest, form: dict[str, str] | None) -> Response[dict[str, Any]]:
    site = site_of(request)
    try:
        claims = userinfo.claims(
            runtime(request), site.tenant, site.issuer, _bearer_token(request, form)
        )
    except InvalidToken as exc:
        # The OAuth error body, and the challenge RFC 6750 §3 asks for beside it.
        challenge = {"www-authenticate": bearer.challenge(site.issuer, exc)}
        return errors.OAUTH.response(exc.status, exc.code, exc.message, challenge)
    return Response(claims, headers={"cache-control": "no-store"})


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


@route("/userinfo", http_method=["GET", "POST"], status_code=200)
async def user_info(request: AnyRequest) -> Response[dict[str, Any]]:
    """OIDC Core §5.3.1: GET or POST; the token in the header or, on a POST, the form body."""
    form = None
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if request.method == "POST" and content_type == "application/x-www-form-urlencoded":
        form = {str(k): str(v) for k, v in (await request.form()).items()}
    return await to_thread.run_sync(partial(_user_info, request, form))


@get("/.well-known/openid-configuration", sync_to_thread=True)
def openid_configuration(request: AnyRequest) -> dict[str, Any]:
    return discovery.metadata(site_of(request).issuer)


@get("/.well-known/oauth-authorization-server", sync_to_thread=True)
def authorization_server(request: AnyRequest) -> dict[str, Any]:
    """RFC 8414 §3 beside OIDC discovery: the same document. For an issuer with a path
    (/t/{tenantId}/) RFC 8414 puts the well-known part first; see `path_issuer_metadata`."""
    return discovery.metadata(site_of(request).issuer)


@get("/.well-known/jwks.json", sync_to_thread=True)
def jwks(request: AnyRequest) -> dict[str, Any]:
    site = site_of(request)
    return signing_keys.jwks(runtime(request), site.tenant.id)


@get("/.well-known/oauth-authorization-server/t/{tenant_id:str}", sync_to_thread=True)
def path_issuer_metadata(request: AnyRequest) -> dict[str, Any]:
    """RFC 8414 §3.1: the metadata of issuer `{public URL}/t/{tenantId}/` at
    `/.well-known/oauth-authorization-server/t/{tenantId}`."""
    return discovery.metadata(site_of(request).issuer)


HANDLERS = [
    signup_challenge,
    login_challenge,
    token,
    revoke,
    user_info,
    openid_configuration,
    authorization_server,
    jwks,
    *oidc.HANDLERS,
]

# The same endpoints by path, and at the root for tenants reached by their own domain.
TAGS = ["native apps and OpenID Connect"]
router = Router(
    path="/t/{tenant_id:str}",
    tags=TAGS,
    route_handlers=HANDLERS,
    exception_handlers=errors.OAUTH.handlers,
)
domain_router = Router(
    path="/",
    tags=TAGS,
    route_handlers=[*HANDLERS, path_issuer_metadata],
    exception_handlers=errors.OAUTH.handlers,
)
