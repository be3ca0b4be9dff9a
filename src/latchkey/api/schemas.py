"""Request and response bodies of the ceremony API (camelCase on the wire)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from latchkey.models import Credential, Event, User
from latchkey.webauthn.aaguids import provider_name
from latchkey.webauthn.encoding import b64url


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class RegistrationOptionsRequest(Body):
    user_id: str = Field(alias="userId", min_length=1, max_length=255)
    username: str | None = Field(default=None, max_length=255)
    display_name: str | None = Field(default=None, alias="displayName", max_length=255)
    authenticator_attachment: Literal["platform", "cross-platform"] | None = Field(
        default=None, alias="authenticatorAttachment"
    )


class OptionsResponse(BaseModel):
    challengeId: str
    options: dict[str, Any]


class RegistrationVerifyRequest(Body):
    challenge_id: str = Field(alias="challengeId", min_length=1, max_length=64)
    credential: dict[str, Any]
    conditional_create: bool = Field(default=False, alias="conditionalCreate")


class AuthenticationOptionsRequest(Body):
    user_id: str | None = Field(default=None, alias="userId", min_length=1, max_length=255)


class AuthenticationVerifyRequest(Body):
    challenge_id: str = Field(alias="challengeId", min_length=1, max_length=64)
    credential: dict[str, Any]


class CredentialOut(BaseModel):
    id: str
    credentialId: str
    name: str
    aaguid: str
    provider: str | None
    deviceType: Literal["multi_device", "single_device"]
    backupEligible: bool
    backedUp: bool
    attachment: str | None
    transports: list[str]
    userVerified: bool
    discoverable: bool | None
    signCount: int
    possibleClone: bool
    createdAt: datetime
    lastUsedAt: datetime | None

    @classmethod
    def of(cls, c: Credential) -> CredentialOut:
        return cls(
            id=c.id,
            credentialId=b64url(c.credential_id),
            name=c.name,
            aaguid=c.aaguid,
            provider=provider_name(c.aaguid),
            deviceType="multi_device" if c.backup_eligible else "single_device",
            backupEligible=c.backup_eligible,
            backedUp=c.backup_state,
            attachment=c.attachment,
            transports=list(c.transports),
            userVerified=c.user_verified,
            discoverable=c.discoverable,
            signCount=c.sign_count,
            possibleClone=c.possible_clone,
            createdAt=c.created_at,
            lastUsedAt=c.last_used_at,
        )


class UserOut(BaseModel):
    userId: str
    username: str | None
    displayName: str | None

    @classmethod
    def of(cls, u: User) -> UserOut:
        return cls(userId=u.external_id, username=u.username, displayName=u.display_name)


class RegistrationVerifyResponse(BaseModel):
    verified: Literal[True]
    user: UserOut
    credential: CredentialOut


class AuthenticationVerifyResponse(BaseModel):
    verified: Literal[True]
    userVerified: bool
    user: UserOut
    credential: CredentialOut


class CredentialList(BaseModel):
    credentials: list[CredentialOut]


class EventOut(BaseModel):
    id: str
    kind: str
    outcome: str
    reason: str | None
    userId: str | None
    credentialId: str | None
    ip: str | None
    userAgent: str | None
    createdAt: datetime

    @classmethod
    def of(cls, e: Event) -> EventOut:
        return cls(
            id=e.id,
            kind=e.kind,
            outcome=e.outcome,
            reason=e.reason,
            userId=e.user_id,
            credentialId=e.credential_id,
            ip=e.ip,
            userAgent=e.user_agent,
            createdAt=e.created_at,
        )


class EventList(BaseModel):
    events: list[EventOut]


class ErrorOut(BaseModel):
    error: str
    message: str
