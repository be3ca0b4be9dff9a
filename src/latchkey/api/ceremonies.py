"""The ceremony API for app backends (secret key): register and sign in with passkeys, under
`/api/v1/tenants/{id}/`, beside the `/v1` client API the browser SDK drives.

A thin adapter, kept for the backends that call it: each route parses, calls the one ceremony
(services/ceremony.py, with the tenant's relying party and keyring, services/tenant_passkeys.py)
that /v1, native apps, identity pools and the portal also use, and renders. It holds no
ceremony logic of its own: same options, challenges, verification, sign-count rule and events.
"""

from __future__ import annotations

from typing import Annotated

from litestar import Router, get, post
from litestar.params import FromPath, JSONBody, QueryParameter

from latchkey.api import errors, schemas, tenancy
from latchkey.api.context import AnyRequest, request_meta, runtime
from latchkey.errors import UserNotFound
from latchkey.services import app_origins, ceremony, events, tenant_passkeys, users


@post("/registration/options", sync_to_thread=True, status_code=200)
def registration_options(
    tenant_id: FromPath[str],
    data: JSONBody[schemas.RegistrationOptionsRequest],
    request: AnyRequest,
) -> schemas.OptionsResponse:
    begun = tenant_passkeys.registration_options(
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
    rt, tenant = runtime(request), tenancy.by_secret_key(request, tenant_id)
    done: tenant_passkeys.Registration = ceremony.finish_registration(
        rt,
        app_origins.relying_party(rt, tenant),
        tenant_passkeys.TenantKeyring(tenant),
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
    begun = tenant_passkeys.sign_in_options(runtime(request), tenant, external_user_id=data.user_id)
    return schemas.OptionsResponse(challenge_id=begun.challenge_id, options=begun.options)


@post("/authentication/verify", sync_to_thread=True, status_code=200)
def authentication_verify(
    tenant_id: FromPath[str],
    data: JSONBody[schemas.AuthenticationVerifyRequest],
    request: AnyRequest,
) -> schemas.AuthenticationVerifyResponse:
    rt, tenant = runtime(request), tenancy.by_secret_key(request, tenant_id)
    done: tenant_passkeys.SignIn = ceremony.finish_sign_in(
        rt,
        app_origins.relying_party(rt, tenant),
        tenant_passkeys.TenantKeyring(tenant),
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
