"""RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0 §2-§3) for the API layer: with a
valid ID token hint the session ends at once and the app's post-logout URI is followed; without
one the user is asked first (a logout a third party could trigger), and stays on Latchkey."""

from __future__ import annotations

from dataclasses import dataclass

from authlib.oauth2.rfc6749 import OAuth2Error

from latchkey.models import Tenant
from latchkey.oauth2.server import OAuthCall, readable_errors
from latchkey.oidc.provider import provider
from latchkey.runtime import RequestMeta, Runtime


@dataclass(frozen=True)
class LogoutOutcome:
    location: str | None = None
    confirm: bool = False
    signed_out: bool = False
    error: dict[str, str] | None = None


def logout(
    rt: Runtime,
    *,
    tenant: Tenant,
    issuer: str,
    call: OAuthCall,
    sso_token: str | None,
    confirmed: bool,
    meta: RequestMeta | None = None,
) -> LogoutOutcome:
    with readable_errors(), rt.transaction() as conn:
        server = provider(rt, conn, tenant, issuer, sso_token=sso_token, meta=meta)
        try:
            checked = server.validate_endpoint_request("end_session", call)
        except OAuth2Error as error:
            return LogoutOutcome(error={k: str(v) for k, v in error.get_body()})
        if checked.needs_confirmation and not confirmed:
            return LogoutOutcome(confirm=True)
        answer = server.create_endpoint_response("end_session", checked)
        return LogoutOutcome(location=answer.location if answer else None, signed_out=True)
