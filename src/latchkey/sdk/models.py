"""Typed results, parsed from Latchkey's camelCase JSON: snake_case fields, datetimes parsed,
the answer as sent kept in `raw`."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


def _time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _names(value: Any) -> tuple[str, ...]:
    return tuple(str(item) for item in value or ())


@dataclass(frozen=True)
class TrackResult:
    """What `track` answers: the action token for the browser and the user's enrolment."""

    state: str
    idempotency_key: str
    token: str
    url: str | None
    is_enrolled: bool
    enrolled_verification_methods: tuple[str, ...]
    allowed_verification_methods: tuple[str, ...]
    raw: dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def parse(cls, data: dict[str, Any]) -> TrackResult:
        return cls(
            state=data["state"],
            idempotency_key=data["idempotencyKey"],
            token=data["token"],
            url=data.get("url"),
            is_enrolled=bool(data.get("isEnrolled")),
            enrolled_verification_methods=_names(data.get("enrolledVerificationMethods")),
            allowed_verification_methods=_names(data.get("allowedVerificationMethods")),
            raw=data,
        )


@dataclass(frozen=True)
class Action:
    """A tracked action, as `get_action`, `update_action` and `validate` describe it."""

    state: str | None
    user_id: str | None
    action: str | None
    idempotency_key: str | None
    verification_method: str | None
    username: str | None
    display_name: str | None
    created_at: datetime | None
    state_updated_at: datetime | None
    # A sign-in without the backend's action token (the browser named the action itself).
    is_anonymous: bool | None
    raw: dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def parse(cls, data: dict[str, Any]) -> Action:
        return cls(**_action_fields(data))


def _action_fields(data: dict[str, Any]) -> dict[str, Any]:
    return {
        "state": data.get("state"),
        "user_id": data.get("userId"),
        "action": data.get("action"),
        "idempotency_key": data.get("idempotencyKey"),
        "verification_method": data.get("verificationMethod"),
        "username": data.get("username"),
        "display_name": data.get("displayName"),
        "created_at": _time(data.get("createdAt")),
        "state_updated_at": _time(data.get("stateUpdatedAt")),
        "is_anonymous": data.get("isAnonymous"),
        "raw": data,
    }


@dataclass(frozen=True)
class ValidateResult(Action):
    """`is_valid` is True exactly once per result token; the other fields are None for a
    token Latchkey does not know."""

    is_valid: bool = False

    @classmethod
    def parse(cls, data: dict[str, Any]) -> ValidateResult:
        return cls(**_action_fields(data), is_valid=data.get("isValid") is True)


@dataclass(frozen=True)
class User:
    """A user of the tenant; an unknown user id reads as a user with nothing enrolled."""

    user_id: str
    is_enrolled: bool
    username: str | None
    display_name: str | None
    email: str | None
    phone_number: str | None
    enrolled_verification_methods: tuple[str, ...]
    allowed_verification_methods: tuple[str, ...]
    raw: dict[str, Any] = field(repr=False, compare=False)
    email_verified: bool = False
    phone_number_verified: bool = False
    # The app's own data on the user, as stored with update_user(..., {"custom": {...}}).
    custom: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def parse(cls, data: dict[str, Any]) -> User:
        return cls(
            user_id=data["userId"],
            is_enrolled=bool(data.get("isEnrolled")),
            username=data.get("username"),
            display_name=data.get("displayName"),
            email=data.get("email"),
            email_verified=data.get("emailVerified") is True,
            phone_number=data.get("phoneNumber"),
            phone_number_verified=data.get("phoneNumberVerified") is True,
            custom=dict(data.get("custom") or {}),
            enrolled_verification_methods=_names(data.get("enrolledVerificationMethods")),
            allowed_verification_methods=_names(data.get("allowedVerificationMethods")),
            raw=data,
        )


@dataclass(frozen=True)
class Authenticator:
    """A user's passkey; the fields of the wire's `webauthnCredential` are flattened in, and
    `aaguid_name` is its `aaguidMapping.name` (the passkey provider, when known)."""

    user_authenticator_id: str
    verification_method: str
    created_at: datetime | None
    verified_at: datetime | None
    last_verified_at: datetime | None
    credential_id: str
    name: str | None
    aaguid: str | None
    aaguid_name: str | None
    credential_backed_up: bool
    credential_device_type: str | None
    authenticator_attachment: str | None
    transports: tuple[str, ...]
    raw: dict[str, Any] = field(repr=False, compare=False)
    # The app's id of the passkey's owner.
    user_id: str | None = None

    @classmethod
    def parse(cls, data: dict[str, Any]) -> Authenticator:
        credential = data.get("webauthnCredential") or {}
        mapping = credential.get("aaguidMapping") or {}
        return cls(
            user_id=data.get("userId"),
            user_authenticator_id=data["userAuthenticatorId"],
            verification_method=data.get("verificationMethod") or "PASSKEY",
            created_at=_time(data.get("createdAt")),
            verified_at=_time(data.get("verifiedAt")),
            last_verified_at=_time(data.get("lastVerifiedAt")),
            credential_id=credential.get("credentialId") or "",
            name=credential.get("name"),
            aaguid=credential.get("aaguid"),
            aaguid_name=mapping.get("name"),
            credential_backed_up=bool(credential.get("credentialBackedUp")),
            credential_device_type=credential.get("credentialDeviceType"),
            authenticator_attachment=credential.get("authenticatorAttachment"),
            transports=_names(credential.get("transports")),
            raw=data,
        )


@dataclass(frozen=True)
class ListedUser:
    """A user as `query_users` lists them."""

    user_id: str
    username: str | None
    email: str | None
    email_verified: bool
    phone_number: str | None
    phone_number_verified: bool

    @classmethod
    def parse(cls, data: dict[str, Any]) -> ListedUser:
        return cls(
            user_id=data["userId"],
            username=data.get("username"),
            email=data.get("email"),
            email_verified=data.get("emailVerified") is True,
            phone_number=data.get("phoneNumber"),
            phone_number_verified=data.get("phoneNumberVerified") is True,
        )


@dataclass(frozen=True)
class UserPage:
    """One page of `query_users`; `last_evaluated_user_id` is None on the last page."""

    users: tuple[ListedUser, ...]
    last_evaluated_user_id: str | None

    @classmethod
    def parse(cls, data: dict[str, Any]) -> UserPage:
        return cls(
            users=tuple(ListedUser.parse(item) for item in data["users"]),
            last_evaluated_user_id=data.get("lastEvaluatedUserId"),
        )


@dataclass(frozen=True)
class ListedAction:
    """An action as `query_user_actions` lists them, newest first."""

    action: str
    idempotency_key: str
    state: str
    created_at: datetime | None
    state_updated_at: datetime | None
    verification_method: str | None
    verified_by_authenticator_id: str | None
    is_anonymous: bool | None

    @classmethod
    def parse(cls, data: dict[str, Any]) -> ListedAction:
        return cls(
            action=data["actionCode"],
            idempotency_key=data["idempotencyKey"],
            state=data["state"],
            created_at=_time(data.get("createdAt")),
            state_updated_at=_time(data.get("stateUpdatedAt")),
            verification_method=data.get("verificationMethod"),
            verified_by_authenticator_id=data.get("verifiedByAuthenticatorId"),
            is_anonymous=data.get("isAnonymous"),
        )
