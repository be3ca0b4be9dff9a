"""The passkey grant's challenge endpoints for native apps (Auth0's shape): POST
/passkey/register and /passkey/challenge authenticate the app and answer WebAuthn options with an
`auth_session`, which the token endpoint redeems with the signed response (token.py,
oauth2/webauthn_grant.py)."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import post
from litestar.params import JSONBody

from latchkey.api.context import AnyRequest, request_meta, runtime
from latchkey.api.site import Site, site_of
from latchkey.models import App
from latchkey.oauth2 import (
    clients,
    webauthn_grant,
)
from latchkey.runtime import Runtime
from latchkey.services import native

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
