"""Client API for browsers: `Authorization: Bearer <action token>` or `Basic base64(tenantId)`."""

from __future__ import annotations

import binascii
from base64 import b64decode
from typing import Annotated, Any
from urllib.parse import unquote

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field

from latchkey.api.auth import runtime
from latchkey.api.v1 import render
from latchkey.errors import InvalidToken, TenantNotFound
from latchkey.models import Action, Tenant, User
from latchkey.services import actions, tenants, web
from latchkey.services.runtime import RequestMeta

router = APIRouter(prefix="/v1/client", tags=["client API"])


class Caller(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)
    tenant: Tenant
    token_action: tuple[Action, User] | None


def caller(request: Request) -> Caller:
    """The tenant, and the tracked action when the browser holds an action token."""
    rt = runtime(request)
    scheme, _, value = (request.headers.get("authorization") or "").partition(" ")
    if scheme.lower() == "bearer":
        action, user = actions.authorize(rt, value.strip())
        return Caller(tenant=tenants.get(rt, action.tenant_id), token_action=(action, user))
    if scheme.lower() == "basic":
        try:
            # The vendor SDK sends btoa(encodeURIComponent(tenantId)), with no colon.
            tenant_id = unquote(b64decode(value.strip(), validate=True).decode()).rstrip(":")
        except (binascii.Error, UnicodeDecodeError) as exc:
            raise TenantNotFound("the tenant id in the Basic credentials is not readable") from exc
        return Caller(tenant=tenants.get(rt, tenant_id), token_action=None)
    raise InvalidToken("send Bearer <token> or Basic base64(tenantId)")


Client = Annotated[Caller, Depends(caller)]


def _meta(request: Request) -> RequestMeta:
    return RequestMeta(
        ip=request.client.host if request.client else None,
        user_agent=request.headers.get("user-agent"),
    )


def _needs_token(who: Caller) -> tuple[Action, User]:
    if who.token_action is None:
        raise InvalidToken("this call needs the action token from the app backend")
    return who.token_action


class RegistrationOptionsBody(BaseModel):
    username: str | None = Field(default=None, max_length=255)
    displayName: str | None = Field(default=None, max_length=255)
    authenticatorAttachment: str | None = None


@router.post("/user-authenticators/passkey/registration-options")
def registration_options(
    body: RegistrationOptionsBody, request: Request, who: Client
) -> dict[str, Any]:
    action, user = _needs_token(who)
    begun = web.sign_up_options(
        runtime(request),
        who.tenant,
        action,
        user,
        username=body.username,
        display_name=body.displayName,
        attachment=body.authenticatorAttachment,
    )
    return {"challengeId": begun.challenge_id, "options": begun.options}


class AddPasskeyBody(BaseModel):
    registrationCredential: dict[str, Any]
    challengeId: str = Field(max_length=64)
    conditionalCreate: bool | None = None


@router.post("/user-authenticators/passkey")
def add_passkey(body: AddPasskeyBody, request: Request, who: Client) -> dict[str, Any]:
    action, user = _needs_token(who)
    done = web.sign_up(
        runtime(request),
        who.tenant,
        action,
        user,
        challenge_id=body.challengeId,
        credential=body.registrationCredential,
        meta=_meta(request),
        conditional=bool(body.conditionalCreate),
    )
    return {
        "isVerified": True,
        "accessToken": done.token,
        "userAuthenticatorId": done.credential.id,
        "userId": done.user.external_id,
        "userAuthenticator": render.authenticator(done.credential),
    }


class ChallengeBody(BaseModel):
    action: str | None = Field(default=None, max_length=64)


@router.post("/challenge")
def challenge(body: ChallengeBody, request: Request, who: Client) -> dict[str, Any]:
    return {"challengeId": web.challenge(runtime(request), who.tenant, action_name=body.action)}


class AuthenticationOptionsBody(BaseModel):
    challengeId: str | None = Field(default=None, max_length=64)


@router.post("/user-authenticators/passkey/authentication-options")
def authentication_options(
    body: AuthenticationOptionsBody, request: Request, who: Client
) -> dict[str, Any]:
    begun = web.sign_in_options(
        runtime(request), who.tenant, token_action=who.token_action, challenge_id=body.challengeId
    )
    return {"challengeId": begun.challenge_id, "options": begun.options}


class VerifyBody(BaseModel):
    authenticationCredential: dict[str, Any]
    challengeId: str = Field(max_length=64)
    deviceId: str | None = Field(default=None, max_length=255)


@router.post("/verify/passkey")
def verify(body: VerifyBody, request: Request, who: Client) -> dict[str, Any]:
    done = web.sign_in(
        runtime(request),
        who.tenant,
        token_action=who.token_action,
        challenge_id=body.challengeId,
        credential=body.authenticationCredential,
        meta=_meta(request),
    )
    return {
        "isVerified": True,
        "accessToken": done.token,
        "userId": done.user.external_id,
        "userAuthenticatorId": done.credential.id,
        "username": done.user.username,
        "userDisplayName": done.user.display_name,
    }
