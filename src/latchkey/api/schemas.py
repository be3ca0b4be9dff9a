"""Request and response bodies of the ceremony API (camelCase on the wire).

msgspec structs: Litestar decodes and validates them in one pass, and they document the API in
the OpenAPI schema.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec

from latchkey.models import Event, User
from latchkey.services.views import CredentialOut, Out

Name = Annotated[str, msgspec.Meta(max_length=255)]
UserId = Annotated[str, msgspec.Meta(min_length=1, max_length=255)]
ChallengeId = Annotated[str, msgspec.Meta(min_length=1, max_length=512)]


class Body(msgspec.Struct, rename="camel", forbid_unknown_fields=True, kw_only=True):
    """A request body: unknown fields are refused, so typos do not pass silently."""


class RegistrationOptionsRequest(Body):
    user_id: UserId
    username: Name | None = None
    display_name: Name | None = None
    authenticator_attachment: Literal["platform", "cross-platform"] | None = None


class OptionsResponse(Out):
    challenge_id: str
    options: dict[str, Any]


class RegistrationVerifyRequest(Body):
    challenge_id: ChallengeId
    credential: dict[str, Any]
    conditional_create: bool = False


class AuthenticationOptionsRequest(Body):
    user_id: UserId | None = None


class AuthenticationVerifyRequest(Body):
    challenge_id: ChallengeId
    credential: dict[str, Any]


class UserOut(Out):
    user_id: str
    username: str | None
    display_name: str | None

    @classmethod
    def of(cls, u: User) -> UserOut:
        return cls(user_id=u.external_id, username=u.username, display_name=u.display_name)


class RegistrationVerifyResponse(Out):
    verified: bool
    user: UserOut
    credential: CredentialOut


class AuthenticationVerifyResponse(Out):
    verified: bool
    user_verified: bool
    user: UserOut
    credential: CredentialOut


class CredentialList(Out):
    credentials: list[CredentialOut]


class EventOut(Out):
    id: str
    kind: str
    outcome: str
    reason: str | None
    user_id: str | None
    credential_id: str | None
    ip: str | None
    user_agent: str | None
    created_at: datetime

    @classmethod
    def of(cls, e: Event) -> EventOut:
        return cls(
            id=e.id,
            kind=e.kind,
            outcome=e.outcome,
            reason=e.reason,
            user_id=e.user_id,
            credential_id=e.credential_id,
            ip=e.ip,
            user_agent=e.user_agent,
            created_at=e.created_at,
        )


class EventList(Out):
    events: list[EventOut]
