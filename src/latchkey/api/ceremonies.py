"""The ceremony API for app backends (secret key): register and sign in with passkeys.

Routes parse, call one service function, render. The browser-facing client API of the web
issue is another adapter over the same services.
"""

from __future__ import annotations

from typing import Annotated

from litestar import Router, get, post
from litestar.params import FromPath, JSONBody, QueryParameter

from latchkey.api import errors, schemas, tenancy
from latchkey.api.context import AnyRequest, request_meta, runtime
from latchkey.errors import UserNotFound
from latchkey.services import authentication, events, registration, users


@post("/registration/options", sync_to_thread=True, status_code=200)
def registration_options(
    tenant_id: FromPath[str],
    data: JSONBody[schemas.RegistrationOptionsRequest],
    request: AnyRequest,
) -> schemas.OptionsResponse:
    begun = registration.begin(
        runtime(request),
        tenancy.by_secret_key(request, tenant_id),
        external_user_id=data.user_id,
        username=data.username,
        display_name=data.display_name,
        attachment=data.authenticator_attachment,
    )
    return schemas.OptionsResponse(challenge_id=begun.challenge_id, options=begun.options)


@post("/registration/verify", sync_to_thread=True, status_code=200)
def registration_verify(
    tenant_id: FromPath[str], data: JSONBody[schemas.RegistrationVerifyRequest], request: AnyRequest
) -> schemas.RegistrationVerifyResponse:
    done = registration.finish(
        runtime(request),
        tenancy.by_secret_key(request, tenant_id),
        challenge_id=data.challenge_id,
        credential=data.credential,
        meta=request_meta(request),
        conditional=data.conditional_create,
    )
    return schemas.RegistrationVerifyResponse(
        verified=True,
        user=schemas.UserOut.of(done.user),
        credential=schemas.CredentialOut.of(done.credential),
    )


@post("/authentication/options", sync_to_thread=True, status_code=200)
def authentication_options(
    tenant_id: FromPath[str],
    data: JSONBody[schemas.AuthenticationOptionsRequest],
    request: AnyRequest,
) -> schemas.OptionsResponse:
    tenant = tenancy.by_secret_key(request, tenant_id)
    begun = authentication.begin(runtime(request), tenant, external_user_id=data.user_id)
    return schemas.OptionsResponse(challenge_id=begun.challenge_id, options=begun.options)


@post("/authentication/verify", sync_to_thread=True, status_code=200)
def authentication_verify(
    tenant_id: FromPath[str],
    data: JSONBody[schemas.AuthenticationVerifyRequest],
    request: AnyRequest,
) -> schemas.AuthenticationVerifyResponse:
    done = authentication.finish(
        runtime(request),
        tenancy.by_secret_key(request, tenant_id),
        challenge_id=data.challenge_id,
        credential=data.credential,
        meta=request_meta(request),
    )
    return schemas.AuthenticationVerifyResponse(
        verified=True,
        user_verified=done.user_verified,
        user=schemas.UserOut.of(done.user),
        credential=schemas.CredentialOut.of(done.credential),
    )


@get("/users/{user_id:str}/credentials", sync_to_thread=True)
def user_credentials(
    tenant_id: FromPath[str], user_id: FromPath[str], request: AnyRequest
) -> schemas.CredentialList:
    tenant = tenancy.by_secret_key(request, tenant_id)
    found = users.credentials_of(runtime(request), tenant, external_user_id=user_id)
    if found is None:
        raise UserNotFound(f"no user {user_id!r}")
    return schemas.CredentialList(credentials=[schemas.CredentialOut.of(c) for c in found])


@get("/events", sync_to_thread=True)
def recent_events(
    tenant_id: FromPath[str],
    request: AnyRequest,
    limit: Annotated[int, QueryParameter(ge=1, le=500)] = 100,
) -> schemas.EventList:
    found = events.recent(
        runtime(request), tenancy.by_secret_key(request, tenant_id).id, limit=limit
    )
    return schemas.EventList(events=[schemas.EventOut.of(e) for e in found])


router = Router(
    path="/api/v1/tenants/{tenant_id:str}",
    exception_handlers=errors.PLAIN.handlers,
    tags=["ceremony API"],
    route_handlers=[
        registration_options,
        registration_verify,
        authentication_options,
        authentication_verify,
        user_credentials,
        recent_events,
    ],
)
