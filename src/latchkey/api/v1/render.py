"""Records as the vendor-compatible JSON shapes."""

from __future__ import annotations

from typing import Any

from latchkey.metadata.names import icon_bytes
from latchkey.models import Action, Credential, User
from latchkey.services import users
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


def authenticator(c: Credential, user_id: str | None = None) -> dict[str, Any]:
    """`user_id`, the app's id of the owner, where the caller may know it (not to anonymous
    callers, who could otherwise learn whose a credential id is)."""
    owner = {"userId": user_id} if user_id is not None else {}
    return {
        **owner,
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


def user(u: User, *, enrolled: bool, verified: frozenset[str] = frozenset()) -> dict[str, Any]:
    """`verified`: the contact fields Latchkey saw proved (a mailed code or link); the app
    backend may also have said so."""
    email_verified, phone_verified = users.verified(u)
    return {
        "userId": u.external_id,
        "isEnrolled": enrolled,
        "username": u.username,
        "displayName": u.display_name,
        "email": u.email,
        "emailVerified": email_verified or "email" in verified,
        "phoneNumber": u.phone_number,
        "phoneNumberVerified": phone_verified or "phone_number" in verified,
        "custom": u.profile.get(users.CUSTOM) or {},
        "enrolledVerificationMethods": ["PASSKEY"] if enrolled else [],
        "allowedVerificationMethods": ["PASSKEY"],
    }


def listed_user(u: User, verified: frozenset[str]) -> dict[str, Any]:
    """A user as queryUsers lists them (`verified` as for `user`)."""
    email_verified, phone_verified = users.verified(u)
    return {
        "userId": u.external_id,
        "email": u.email,
        "emailVerified": email_verified or "email" in verified,
        "phoneNumber": u.phone_number,
        "phoneNumberVerified": phone_verified or "phone_number" in verified,
        "username": u.username,
    }


def listed_action(a: Action) -> dict[str, Any]:
    """An action as queryUserActions lists them."""
    return {
        "actionCode": a.action,
        "idempotencyKey": a.idempotency_key,
        "createdAt": _time(a.created_at),
        "updatedAt": _time(a.state_updated_at),
        "state": a.state,
        "stateUpdatedAt": _time(a.state_updated_at),
        "verificationMethod": a.verification_method,
        "verifiedByAuthenticatorId": a.credential_id,
        "isAnonymous": a.anonymous,
    }


def unknown_user(external_id: str) -> dict[str, Any]:
    """The vendor answers an unknown user as a user with nothing enrolled, not as a 404."""
    return {
        "userId": external_id,
        "isEnrolled": False,
        "emailVerified": False,
        "phoneNumberVerified": False,
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
