"""The ceremony API for app backends (secret key): register and sign in with passkeys.

Routes parse, call one service function, render. The browser-facing client API of the web
issue is another adapter over the same services.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from latchkey.api import schemas
from latchkey.api.auth import runtime, tenant_for_request
from latchkey.errors import UserNotFound
from latchkey.models import Tenant
from latchkey.services import authentication, events, registration, users
from latchkey.services.runtime import RequestMeta

_ERRORS = {status: {"model": schemas.ErrorOut} for status in (400, 401, 404, 409, 413, 503)}
router = APIRouter(prefix="/api/v1/tenants/{tenant_id}", responses=_ERRORS)  # type: ignore[arg-type]
CurrentTenant = Annotated[Tenant, Depends(tenant_for_request)]


def _meta(request: Request) -> RequestMeta:
    return RequestMeta(
        ip=request.client.host if request.client else None,
        user_agent=request.headers.get("user-agent"),
    )


@router.post("/registration/options", response_model=schemas.OptionsResponse)
def registration_options(
    body: schemas.RegistrationOptionsRequest, request: Request, tenant: CurrentTenant
) -> schemas.OptionsResponse:
    begun = registration.begin(
        runtime(request),
        tenant,
        external_user_id=body.user_id,
        username=body.username,
        display_name=body.display_name,
        attachment=body.authenticator_attachment,
    )
    return schemas.OptionsResponse(challengeId=begun.challenge_id, options=begun.options)


@router.post("/registration/verify", response_model=schemas.RegistrationVerifyResponse)
def registration_verify(
    body: schemas.RegistrationVerifyRequest, request: Request, tenant: CurrentTenant
) -> schemas.RegistrationVerifyResponse:
    done = registration.finish(
        runtime(request),
        tenant,
        challenge_id=body.challenge_id,
        credential=body.credential,
        meta=_meta(request),
        conditional=body.conditional_create,
    )
    return schemas.RegistrationVerifyResponse(
        verified=True,
        user=schemas.UserOut.of(done.user),
        credential=schemas.CredentialOut.of(done.credential),
    )


@router.post("/authentication/options", response_model=schemas.OptionsResponse)
def authentication_options(
    body: schemas.AuthenticationOptionsRequest, request: Request, tenant: CurrentTenant
) -> schemas.OptionsResponse:
    begun = authentication.begin(runtime(request), tenant, external_user_id=body.user_id)
    return schemas.OptionsResponse(challengeId=begun.challenge_id, options=begun.options)


@router.post("/authentication/verify", response_model=schemas.AuthenticationVerifyResponse)
def authentication_verify(
    body: schemas.AuthenticationVerifyRequest, request: Request, tenant: CurrentTenant
) -> schemas.AuthenticationVerifyResponse:
    done = authentication.finish(
        runtime(request),
        tenant,
        challenge_id=body.challenge_id,
        credential=body.credential,
        meta=_meta(request),
    )
    return schemas.AuthenticationVerifyResponse(
        verified=True,
        userVerified=done.user_verified,
        user=schemas.UserOut.of(done.user),
        credential=schemas.CredentialOut.of(done.credential),
    )


@router.get("/users/{user_id}/credentials", response_model=schemas.CredentialList)
def user_credentials(
    user_id: str, request: Request, tenant: CurrentTenant
) -> schemas.CredentialList:
    found = users.credentials_of(runtime(request), tenant, external_user_id=user_id)
    if found is None:
        raise UserNotFound(f"no user {user_id!r}")
    return schemas.CredentialList(credentials=[schemas.CredentialOut.of(c) for c in found])


@router.get("/events", response_model=schemas.EventList)
def recent_events(
    request: Request,
    tenant: CurrentTenant,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> schemas.EventList:
    found = events.recent(runtime(request), tenant.id, limit=limit)
    return schemas.EventList(events=[schemas.EventOut.of(e) for e in found])
