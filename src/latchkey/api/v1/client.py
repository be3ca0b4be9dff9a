"""Client API for browsers: `Authorization: Bearer <action token>` or `Basic base64(tenantId)`."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Any

import msgspec
from litestar import Router, get, post
from litestar.params import JSONBody, QueryParameter

from latchkey.api import errors, tenancy
from latchkey.api.context import AnyRequest, request_meta, runtime
from latchkey.api.v1 import render
from latchkey.errors import (
    CredentialNotFound,
    InvalidRequest,
    InvalidToken,
    OriginNotAllowed,
)
from latchkey.models import Action, Tenant, User
from latchkey.runtime.group_commit import Expected
from latchkey.services import actions, users, web
from latchkey.webauthn.encoding import decode_b64url

Short = Annotated[str, msgspec.Meta(max_length=255)]
ChallengeId = Annotated[str, msgspec.Meta(max_length=512)]
_B64URL = re.compile(r"^[A-Za-z0-9_-]{1,1400}$")


@dataclass(frozen=True, slots=True)
class Caller:
    tenant: Tenant
    token_action: tuple[Action, User] | None

    def needs_token(self) -> tuple[Action, User]:
        if self.token_action is None:
            raise InvalidToken("this call needs the action token from the app backend")
        return self.token_action


def _limit_anonymous(request: AnyRequest, who: Caller) -> None:
    """A sign-in without the backend's action token answers anyone: count it per client IP and
    per tenant, like every unauthenticated endpoint."""
    if who.token_action is None:
        ip = request.client.host if request.client else None
        runtime(request).limiter.limit("web-sign-in", ip=ip, tenant_id=who.tenant.id)


def caller(request: AnyRequest) -> Caller:
    """The tenant, and the tracked action when the browser holds an action token.

    A browser (it sends Origin) must be on one of the tenant's web origins: CORS alone would
    let another tenant's origin make the call and only hide the answer.
    """
    tenant, token_action = tenancy.by_client(request)
    origin = request.headers.get("origin")
    if origin is not None and origin not in tenant.web_origins:
        raise OriginNotAllowed(f"{origin} is not an origin of this tenant")
    return Caller(tenant, token_action)


class RegistrationOptionsBody(msgspec.Struct, kw_only=True):
    username: Short | None = None
    displayName: Short | None = None
    authenticatorAttachment: Annotated[str, msgspec.Meta(max_length=32)] | None = None


@post("/user-authenticators/passkey/registration-options", status_code=200, sync_to_thread=True)
def registration_options(
    data: JSONBody[RegistrationOptionsBody], request: AnyRequest
) -> dict[str, Any]:
    who = caller(request)
    action, user = who.needs_token()
    begun = web.sign_up_options(
        runtime(request),
        who.tenant,
        action,
        user,
        username=data.username,
        display_name=data.displayName,
        attachment=data.authenticatorAttachment,
    )
    return {"challengeId": begun.challenge_id, "options": begun.options}


class AddPasskeyBody(msgspec.Struct, kw_only=True):
    registrationCredential: dict[str, Any]
    challengeId: ChallengeId
    conditionalCreate: bool | None = None


@post("/user-authenticators/passkey", status_code=200, sync_to_thread=True)
def add_passkey(data: JSONBody[AddPasskeyBody], request: AnyRequest) -> dict[str, Any]:
    who = caller(request)
    action, user = who.needs_token()
    done = web.sign_up(
        runtime(request),
        who.tenant,
        action,
        user,
        challenge_id=data.challengeId,
        credential=data.registrationCredential,
        meta=request_meta(request),
        conditional=bool(data.conditionalCreate),
    )
    return {
        "isVerified": True,
        "accessToken": done.token,
        "userAuthenticatorId": done.credential.id,
        "userId": done.user.external_id,
        "userAuthenticator": render.authenticator(done.credential, done.user.external_id),
    }


@get("/user-authenticators/passkey", sync_to_thread=True)
def find_passkey(
    request: AnyRequest,
    credential_ids: Annotated[
        str | None, QueryParameter(name="credentialIds", max_length=8192)
    ] = None,
    credential_id: Annotated[
        str | None, QueryParameter(name="credentialId", max_length=2048)
    ] = None,
) -> dict[str, Any]:
    """Whether this device's stored credential ids are still known (the SDK then skips the
    passkey-creation prompt); 404 when none is. iOS sends `credentialId`, the web SDK
    `credentialIds`."""
    who = caller(request)
    credential_ids = credential_ids or credential_id or ""
    parts = [part for part in credential_ids.split(",")[:20] if part]
    if not parts or not all(_B64URL.match(part) for part in parts):
        raise InvalidRequest("credentialIds must be comma-separated base64url credential ids")
    wanted = [decode_b64url(part, field="credentialIds") for part in parts]
    found = users.known_credentials(runtime(request), who.tenant, wanted)
    if not found:
        raise CredentialNotFound("none of these credentials is registered")
    return render.authenticator(found[0])


@get("/user-authenticators", sync_to_thread=True)
def my_authenticators(request: AnyRequest) -> list[dict[str, Any]]:
    """The token's user's authenticators (the mobile SDKs list them)."""
    who = caller(request)
    action, user = who.needs_token()
    actions.require_live(action)
    found = users.credentials_of(runtime(request), who.tenant, external_user_id=user.external_id)
    return [render.authenticator(c, user.external_id) for c in found or []]


class ChallengeBody(msgspec.Struct, kw_only=True):
    action: Annotated[str, msgspec.Meta(max_length=64)] | None = None


@post("/challenge", status_code=200, sync_to_thread=True)
def challenge(data: JSONBody[ChallengeBody], request: AnyRequest) -> dict[str, Any]:
    who = caller(request)
    _limit_anonymous(request, who)  # bounded like its neighbours
    return {"challengeId": web.challenge(runtime(request), who.tenant, action_name=data.action)}


class AuthenticationOptionsBody(msgspec.Struct, kw_only=True):
    challengeId: ChallengeId | None = None


@post("/user-authenticators/passkey/authentication-options", status_code=200, sync_to_thread=True)
def authentication_options(
    data: JSONBody[AuthenticationOptionsBody], request: AnyRequest
) -> dict[str, Any]:
    return options_for(anonymous_limited(request), data, request)


def anonymous_limited(request: AnyRequest) -> Caller:
    """The caller of a sign-in route, counted against the anonymous limits: all from headers,
    so a refused request costs no body parse and no write (api/hot_routes.py asks first)."""
    who = caller(request)
    _limit_anonymous(request, who)
    return who


def options_for(
    who: Caller, data: AuthenticationOptionsBody, request: AnyRequest
) -> dict[str, Any]:
    begun = web.sign_in_options(
        runtime(request), who.tenant, token_action=who.token_action, challenge_id=data.challengeId
    )
    return {"challengeId": begun.challenge_id, "options": begun.options}


class VerifyBody(msgspec.Struct, kw_only=True):
    authenticationCredential: dict[str, Any]
    challengeId: ChallengeId
    deviceId: Short | None = None


@post("/verify/passkey", status_code=200, sync_to_thread=True)
def verify(data: JSONBody[VerifyBody], request: AnyRequest) -> dict[str, Any]:
    return verified(start_verify(anonymous_limited(request), data, request).outcome())


def start_verify(
    who: Caller, data: VerifyBody, request: AnyRequest, expected: Expected | None = None
) -> web.PendingSignIn:
    """The checks of a sign-in, its write queued: `verified` answers once it committed."""
    return web.start_sign_in(
        runtime(request),
        who.tenant,
        token_action=who.token_action,
        challenge_id=data.challengeId,
        credential=data.authenticationCredential,
        meta=request_meta(request),
        expected=expected,
    )


def verified(done: web.Outcome) -> dict[str, Any]:
    return {
        "isVerified": True,
        "accessToken": done.token,
        "userId": done.user.external_id,
        "userAuthenticatorId": done.credential.id,
        "username": done.user.username,
        "userDisplayName": done.user.display_name,
    }


@get("/action", sync_to_thread=True, include_in_schema=False)
def hosted_action(request: AnyRequest) -> dict[str, Any]:
    """Ours, for the hosted action page (api/action_page.py): which ceremony the token's action
    needs, and where the browser goes with the result token."""
    who = caller(request)
    action, _user = who.needs_token()
    found = web.hosted(runtime(request), who.tenant, action)
    return {
        "action": found.action.action,
        "state": found.action.state,
        "isEnrolled": found.enrolled,
        "redirectUrl": found.redirect_url,
        # A window opened by the app's page is told the token only on the tenant's origins.
        "origins": list(who.tenant.web_origins),
    }


router = Router(
    path="/v1/client",
    exception_handlers=errors.V1.handlers,
    tags=["client API"],
    route_handlers=[
        registration_options,
        add_passkey,
        find_passkey,
        my_authenticators,
        challenge,
        authentication_options,
        verify,
        hosted_action,
    ],
)
