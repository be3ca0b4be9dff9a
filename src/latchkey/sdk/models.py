"""Typed results, parsed from Latchkey's camelCase JSON (the raw answer is kept in `raw`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


def _time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


@dataclass(frozen=True)
class TrackResult:
    state: str
    idempotency_key: str
    token: str
    url: str | None
    is_enrolled: bool
    enrolled_verification_methods: list[str]
    allowed_verification_methods: list[str]
    raw: dict[str, Any] = field(repr=False)

    @classmethod
    def parse(cls, data: dict[str, Any]) -> TrackResult:
        return cls(
            state=data["state"],
            idempotency_key=data["idempotencyKey"],
            token=data["token"],
            url=data.get("url"),
            is_enrolled=bool(data.get("isEnrolled")),
            enrolled_verification_methods=list(data.get("enrolledVerificationMethods") or []),
            allowed_verification_methods=list(data.get("allowedVerificationMethods") or []),
            raw=data,
        )


@dataclass(frozen=True)
class Action:
    """A tracked action as validate and the action calls describe it."""

    state: str | None
    user_id: str | None
    action: str | None
    idempotency_key: str | None
    verification_method: str | None
    username: str | None
    display_name: str | None
    created_at: datetime | None
    state_updated_at: datetime | None
    raw: dict[str, Any] = field(repr=False)

    @classmethod
    def parse(cls, data: dict[str, Any]) -> Action:
        return cls(
            state=data.get("state"),
            user_id=data.get("userId"),
            action=data.get("action"),
            idempotency_key=data.get("idempotencyKey"),
            verification_method=data.get("verificationMethod"),
            username=data.get("username"),
            display_name=data.get("displayName"),
            created_at=_time(data.get("createdAt")),
            state_updated_at=_time(data.get("stateUpdatedAt")),
            raw=data,
        )


@dataclass(frozen=True)
class ValidateResult(Action):
    """`is_valid` is True exactly once per result token."""

    is_valid: bool = False

    @classmethod
    def parse(cls, data: dict[str, Any]) -> ValidateResult:
        base = Action.parse(data)
        return cls(**{**base.__dict__, "is_valid": bool(data.get("isValid"))})


@dataclass(frozen=True)
class User:
    user_id: str
    is_enrolled: bool
    username: str | None
    display_name: str | None
    email: str | None
    phone_number: str | None
    enrolled_verification_methods: list[str]
    raw: dict[str, Any] = field(repr=False)

    @classmethod
    def parse(cls, data: dict[str, Any]) -> User:
        return cls(
            user_id=data["userId"],
            is_enrolled=bool(data.get("isEnrolled")),
            username=data.get("username"),
            display_name=data.get("displayName"),
            email=data.get("email"),
            phone_number=data.get("phoneNumber"),
            enrolled_verification_methods=list(data.get("enrolledVerificationMethods") or []),
            raw=data,
        )


@dataclass(frozen=True)
class Authenticator:
    """A user's passkey."""

    user_authenticator_id: str
    verification_method: str
    credential_id: str
    name: str | None
    aaguid: str | None
    provider: str | None
    backed_up: bool
    device_type: str | None
    attachment: str | None
    created_at: datetime | None
    last_verified_at: datetime | None
    raw: dict[str, Any] = field(repr=False)

    @classmethod
    def parse(cls, data: dict[str, Any]) -> Authenticator:
        credential = data.get("webauthnCredential") or {}
        mapping = credential.get("aaguidMapping") or {}
        return cls(
            user_authenticator_id=data["userAuthenticatorId"],
            verification_method=data.get("verificationMethod", "PASSKEY"),
            credential_id=credential.get("credentialId", ""),
            name=credential.get("name"),
            aaguid=credential.get("aaguid"),
            provider=mapping.get("name"),
            backed_up=bool(credential.get("credentialBackedUp")),
            device_type=credential.get("credentialDeviceType"),
            attachment=credential.get("authenticatorAttachment"),
            created_at=_time(data.get("createdAt")),
            last_verified_at=_time(data.get("lastVerifiedAt")),
            raw=data,
        )
