"""The passkey grant, `urn:okta:params:oauth:grant-type:webauthn`: a native app exchanges the
platform's credential for its auth_session for tokens (signup creates the user and passkey;
login verifies the assertion). A signup whose challenge said `verification_required` also
sends the mailed codes as `verification` ({"email": code}, as Auth0's SDKs do)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from latchkey.errors import LatchkeyError, ServiceUnavailable
from latchkey.models import App, Tenant
from latchkey.oauth2 import audiences, clients
from latchkey.oauth2.errors import AccessDenied, InvalidGrant, InvalidRequest, RetryWithCodes
from latchkey.oauth2.tokens import Grant, issue, parse_scope
from latchkey.runtime import RequestMeta, Runtime
from latchkey.services import amr, native, native_verification
from latchkey.services.apps import PASSKEY_GRANT
from latchkey.services.pools import email_verification

GRANT_TYPE = PASSKEY_GRANT


def require_enabled(app: App) -> None:
    """The passkey grant is off until an operator enables it for the app."""
    clients.require_grant(app, GRANT_TYPE, "passkey")


def _json_object(raw: Any, name: str, what: str) -> Mapping[str, Any]:
    # Form-encoded requests carry objects as JSON strings; JSON requests as objects.
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError as exc:
            raise InvalidRequest(f"{name} is not valid JSON") from exc
    if not isinstance(raw, Mapping):
        raise InvalidRequest(f"{name} must be {what} as JSON")
    return raw


def _credential(raw: Any) -> Mapping[str, Any]:
    return _json_object(raw, "authn_response", "the platform credential")


def _verification(raw: Any) -> Mapping[str, Any] | None:
    if raw is None or raw == "":
        return None
    return _json_object(raw, "verification", "an object of codes by identifier")


def exchange(
    rt: Runtime,
    *,
    tenant: Tenant,
    app: App,
    issuer: str,
    params: Mapping[str, Any],
    meta: RequestMeta,
) -> dict[str, Any]:
    require_enabled(app)
    auth_session = params.get("auth_session")
    if not isinstance(auth_session, str) or not auth_session:
        raise InvalidRequest("auth_session is required")
    credential = _credential(params.get("authn_response"))
    verification = _verification(params.get("verification"))
    realm = params.get("realm") or None
    if realm is not None and not isinstance(realm, str):
        raise InvalidRequest("realm must be a string")
    scope = parse_scope(_text(params.get("scope")))
    # Checked before the ceremony, so a refused audience writes nothing (RFC 8707 §2).
    audience = audiences.resolve(app, rt.public_url, audiences.asked(params))
    try:
        done = native.complete(
            rt,
            tenant,
            app,
            realm=realm,
            auth_session=auth_session,
            authn_response=credential,
            meta=meta,
            verification=verification,
        )
    except ServiceUnavailable:
        raise
    except native_verification.VerificationRequired as exc:
        raise RetryWithCodes(
            f"{exc.message} ({exc.code})", auth_session=exc.auth_session, required=exc.required
        ) from exc
    except email_verification.EmailUnverified as exc:
        # The passkey was proved; the pool refuses the account until its address is.
        raise AccessDenied(f"{exc.message} ({exc.code})") from exc
    except LatchkeyError as exc:
        # Every failed proof is invalid_grant (RFC 6749 §5.2); the reason stays in the message.
        raise InvalidGrant(f"{exc.message} ({exc.code})") from exc
    grant = Grant(
        tenant=tenant,
        app=app,
        user=done.user,
        scope=scope,
        amr=tuple(amr.of_passkey(done.credential)),
        auth_time=rt.now(),
        issuer=issuer,
        audience=audience,
        credential_id=done.credential.id,
    )
    with rt.transaction() as conn:
        return issue(conn, rt, grant)


def _text(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value) > 1024:
        raise InvalidRequest("scope must be a string")
    return value
