"""Latchkey's Python SDK for app backends: track actions, validate tokens, manage users and
their passkeys. `LatchkeyClient` (sync) and `AsyncLatchkeyClient` have the same calls. It runs
in an app's backend, so it imports nothing of the server's."""

from latchkey.sdk.client import AsyncLatchkeyClient, LatchkeyClient
from latchkey.sdk.errors import (
    BadRequest,
    Conflict,
    Forbidden,
    LatchkeyError,
    NotFound,
    RateLimited,
    ServerError,
    TransportError,
    Unauthorized,
)
from latchkey.sdk.models import (
    Action,
    Authenticator,
    ListedAction,
    ListedUser,
    TrackResult,
    User,
    UserPage,
    ValidateResult,
)

__all__ = [
    "Action",
    "AsyncLatchkeyClient",
    "Authenticator",
    "BadRequest",
    "Conflict",
    "Forbidden",
    "LatchkeyClient",
    "LatchkeyError",
    "ListedAction",
    "ListedUser",
    "NotFound",
    "RateLimited",
    "ServerError",
    "TrackResult",
    "TransportError",
    "Unauthorized",
    "User",
    "UserPage",
    "ValidateResult",
]
