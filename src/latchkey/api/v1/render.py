"""Records as the vendor-compatible JSON shapes."""

from __future__ import annotations

from typing import Any

from latchkey.metadata.names import icon_bytes
from latchkey.models import Action, Credential, User
from latchkey.webauthn.aaguids import provider_name
from latchkey.webauthn.encoding import b64url


def _time(value: Any) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def _mapping(aaguid: str) -> dict[str, Any] | None:
    """The model's name (FIDO metadata, else the passkey-provider list) and, where the metadata
    has one, its icon as Latchkey serves it."""
    name = provider_name(aaguid)
    if name is None:
        return None
    icon = f"/mds/icons/{aaguid}" if icon_bytes(aaguid) is not None else None
    return {"name": name, "svgIconLight": icon, "svgIconDark": icon} if icon else {"name": name}


def authenticator(c: Credential) -> dict[str, Any]:
    return {
        "userAuthenticatorId": c.id,
        "verificationMethod": "PASSKEY",
        "createdAt": _time(c.created_at),
        "verifiedAt": _time(c.created_at),
        "lastVerifiedAt": _time(c.last_used_at),
        "webauthnCredential": {
            "credentialId": b64url(c.credential_id),
            "name": c.name,
            "aaguid": c.aaguid,
            "aaguidMapping": _mapping(c.aaguid),
            "credentialBackedUp": c.backup_state,
            "credentialDeviceType": "multiDevice" if c.backup_eligible else "singleDevice",
            "authenticatorAttachment": c.attachment,
            "transports": list(c.transports),
        },
    }


def user(u: User, *, enrolled: bool) -> dict[str, Any]:
    return {
        "userId": u.external_id,
        "isEnrolled": enrolled,
        "username": u.username,
        "displayName": u.display_name,
        "email": u.email,
        "phoneNumber": u.phone_number,
        "enrolledVerificationMethods": ["PASSKEY"] if enrolled else [],
        "allowedVerificationMethods": ["PASSKEY"],
    }


def unknown_user(external_id: str) -> dict[str, Any]:
    """The vendor answers an unknown user as a user with nothing enrolled, not as a 404."""
    return {
        "userId": external_id,
        "isEnrolled": False,
        "enrolledVerificationMethods": [],
        "allowedVerificationMethods": ["PASSKEY"],
    }


def action(a: Action, u: User) -> dict[str, Any]:
    return {
        "state": a.state,
        "stateUpdatedAt": _time(a.state_updated_at),
        "createdAt": _time(a.created_at),
        "userId": u.external_id,
        "action": a.action,
        "idempotencyKey": a.idempotency_key,
        "verificationMethod": a.verification_method,
        "username": u.username,
        "displayName": u.display_name,
        # Ours: a sign-in without the backend's action token (the browser named the action).
        "isAnonymous": a.anonymous,
    }
