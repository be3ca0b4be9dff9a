"""The domain exceptions every layer raises; each surface maps them to its wire shape in one place.

Each class carries a stable machine `code`. The HTTP status lives with the class so that every
surface answers the same status for the same failure.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Self


@dataclass(frozen=True)
class Problem:
    """One of several things wrong with a request: the field it is about and why."""

    field: str
    message: str

    def to_dict(self) -> dict[str, str]:
        return {"field": self.field, "message": self.message}


class LatchkeyError(Exception):
    """Base of every error Latchkey reports to a caller."""

    code = "error"
    status = 400

    def __init__(
        self, message: str, *, code: str | None = None, problems: tuple[Problem, ...] = ()
    ) -> None:
        super().__init__(message)
        self.message = message
        # Every problem found when a check looks at all fields rather than stopping at the
        # first; `message` then lists them all.
        self.problems = problems
        if code is not None:
            self.code = code

    @classmethod
    def of(cls, problems: list[Problem]) -> Self:
        """One error naming every problem (their messages joined in `message`)."""
        return cls("; ".join(p.message for p in problems), problems=tuple(problems))


class ConfigError(LatchkeyError):
    """A configuration value breaks a rule; the message names the value and the rule."""

    code = "invalid_configuration"


class InvalidRequest(LatchkeyError):
    """The request is well-formed HTTP but its content is not acceptable."""

    code = "invalid_request"


class PayloadTooLarge(LatchkeyError):
    code = "payload_too_large"
    status = 413


class Unauthorized(LatchkeyError):
    code = "unauthorized"
    status = 401


class Forbidden(LatchkeyError):
    code = "forbidden"
    status = 403


class NotFound(LatchkeyError):
    code = "not_found"
    status = 404


class Conflict(LatchkeyError):
    code = "conflict"
    status = 409


class ServiceUnavailable(LatchkeyError):
    code = "service_unavailable"
    status = 503


class ChallengeError(LatchkeyError):
    """The challenge named by a ceremony is unknown, used, expired or not for this ceremony."""

    code = "invalid_challenge"


class VerificationError(LatchkeyError):
    """A WebAuthn response failed a verification step (subclasses name the step)."""

    code = "verification_failed"


# Concrete errors the services raise, grouped under the classes above.


class TenantNotFound(NotFound):
    code = "tenant_not_found"


class UserNotFound(NotFound):
    code = "user_not_found"


class CredentialNotFound(NotFound):
    code = "credential_not_found"


class UserDisabled(Forbidden):
    """An operator disabled the user: no sign-in and no new passkey until enabled again."""

    code = "user_disabled"


class InvalidApiKey(Unauthorized):
    code = "invalid_api_key"


class ChallengeNotFound(ChallengeError):
    code = "challenge_not_found"
    status = 404


class ChallengeExpired(ChallengeError):
    code = "challenge_expired"


class ChallengeUsed(ChallengeError):
    code = "challenge_used"


class CredentialAlreadyRegistered(Conflict):
    code = "credential_exists"


class UserChanged(Conflict):
    """The user was created or changed by another ceremony after this one began."""

    code = "user_changed"


class InvalidToken(Unauthorized):
    code = "invalid_token"


class ExpiredToken(Unauthorized):
    code = "expired_token"


class ActionClosed(Forbidden):
    """The action token's action is no longer waiting for a challenge: it succeeded, or the
    backend set it to BLOCK, ALLOW or another final state."""

    code = "action_closed"


class ActionReserved(Forbidden):
    """An anonymous sign-in named an action the tenant's backend tracks (or one outside the
    tenant's list of anonymous actions)."""

    code = "action_reserved"


class BindingRequired(Forbidden):
    """Adding a passkey for an enrolled user needs an action tracked with add:authenticators."""

    code = "add_authenticators_scope_required"


class OriginNotAllowed(Forbidden):
    """A browser on an origin the tenant does not list called the client API."""

    code = "origin_not_allowed"


class IdentifierTaken(Conflict):
    """Another user of the directory already signed up with this e-mail, phone or username."""

    code = "identifier_taken"
