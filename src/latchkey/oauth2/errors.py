"""OAuth 2.0 errors (RFC 6749 §5.2), answered as {"error", "error_description"}."""

from __future__ import annotations

from latchkey.errors import LatchkeyError


class OAuthError(LatchkeyError):
    code = "invalid_request"
    status = 400


class InvalidRequest(OAuthError):
    code = "invalid_request"


class InvalidClient(OAuthError):
    code = "invalid_client"
    status = 401


class InvalidGrant(OAuthError):
    code = "invalid_grant"


class RetryWithCodes(InvalidGrant):
    """An invalid_grant the client may retry with the mailed codes (Auth0's native passkey
    signup): the answer also names the identifiers still to prove and the auth_session to
    send them with."""

    def __init__(self, message: str, *, auth_session: str, required: list[str]) -> None:
        super().__init__(message)
        self.fields = {"verification_required": required, "auth_session": auth_session}


class UnauthorizedClient(OAuthError):
    code = "unauthorized_client"


class UnsupportedGrantType(OAuthError):
    code = "unsupported_grant_type"


class InvalidScope(OAuthError):
    code = "invalid_scope"


class InvalidTarget(OAuthError):
    """RFC 8707 §2: the requested resource (audience) is not one this client may have."""

    code = "invalid_target"


class InvalidToken(OAuthError):
    """RFC 6750 §3.1: a bearer token at a protected resource is missing, expired or bad."""

    code = "invalid_token"
    status = 401


class AccessDenied(OAuthError):
    code = "access_denied"
    status = 403


_BY_CODE: dict[str, type[OAuthError]] = {
    cls.code: cls
    for cls in (
        InvalidRequest,
        InvalidClient,
        InvalidGrant,
        UnauthorizedClient,
        UnsupportedGrantType,
        InvalidScope,
        InvalidTarget,
        InvalidToken,
        AccessDenied,
    )
}


def oauth_error(code: str, description: str | None) -> OAuthError:
    """Our exception for an error Authlib answered, so every surface maps it in one place."""
    cls = _BY_CODE.get(code, OAuthError)
    return cls(description or code.replace("_", " "), code=code)
