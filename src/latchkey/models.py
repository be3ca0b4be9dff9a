"""Plain records passed between the store, the services and the HTTP surfaces."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any

from latchkey.webauthn.policy import PasskeyPolicy
from latchkey.webauthn.relying_party import RelyingParty


@dataclass(frozen=True)
class Tenant:
    id: str
    name: str
    rp_id: str
    rp_name: str
    origins: tuple[str, ...]
    policy: PasskeyPolicy
    created_at: datetime
    updated_at: datetime
    # Origins on other registrable domains, allowed by WebAuthn Related Origin Requests.
    related_origins: tuple[str, ...] = ()
    # Events older than this are pruned; None keeps them for ever.
    event_retention_days: int | None = None
    # The action names an anonymous sign-in may carry; None allows any name not tracked.
    anonymous_actions: tuple[str, ...] | None = None

    @cached_property
    def web_origins(self) -> tuple[str, ...]:
        # Cached (tenants are cached and immutable): every client API request checks its Origin.
        own = tuple(o for o in self.origins if o.startswith(("https://", "http://")))
        return own + self.related_origins

    @property
    def ceremony_origins(self) -> tuple[str, ...]:
        return self.origins + self.related_origins

    def to_dict(self) -> dict[str, Any]:
        """Every field as a plain value (lists, the policy as a dict, times as datetimes): the
        row the store writes, and what `latchkey tenant` prints."""
        return {
            "id": self.id,
            "name": self.name,
            "rp_id": self.rp_id,
            "rp_name": self.rp_name,
            "origins": list(self.origins),
            "related_origins": list(self.related_origins),
            "policy": self.policy.to_dict(),
            "anonymous_actions": (
                list(self.anonymous_actions) if self.anonymous_actions is not None else None
            ),
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "event_retention_days": self.event_retention_days,
        }

    @cached_property
    def relying_party(self) -> RelyingParty:
        """The tenant as its ceremonies' relying party (its apps' platform origins are added
        at verification: services/app_origins.py). Cached: tenants are cached and immutable."""
        return RelyingParty(self.rp_id, self.rp_name, self.ceremony_origins, self.policy)


@dataclass(frozen=True)
class Directory:
    """A tenant's user directory (realm): the identifiers its users sign up with."""

    id: str
    tenant_id: str
    name: str
    is_default: bool
    identifiers: dict[str, str]
    settings: dict[str, Any]
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class App:
    """An OAuth client of a tenant, with the device settings of its native builds."""

    id: str
    tenant_id: str
    client_id: str
    name: str
    app_type: str
    client_secret_hash: bytes | None
    redirect_uris: tuple[str, ...]
    grant_types: tuple[str, ...]
    ios_team_id: str | None
    ios_bundle_id: str | None
    android_package: str | None
    android_fingerprints: tuple[str, ...]
    created_at: datetime
    updated_at: datetime
    # Seconds a refresh-token family lives from its sign-in; None: the default.
    refresh_token_lifetime: int | None = None
    # API audiences its access tokens may be issued for; none registered: the tenant's own.
    audiences: tuple[str, ...] = ()

    @property
    def confidential(self) -> bool:
        return self.client_secret_hash is not None


@dataclass(frozen=True)
class User:
    id: str
    tenant_id: str
    external_id: str
    user_handle: bytes
    username: str | None
    display_name: str | None
    created_at: datetime
    updated_at: datetime
    email: str | None = None
    phone_number: str | None = None
    directory_id: str = ""
    profile: dict[str, Any] = field(default_factory=dict)
    # Set by an operator: the user can no longer sign in.
    disabled_at: datetime | None = None


@dataclass(frozen=True)
class Credential:
    id: str
    tenant_id: str
    user_id: str
    credential_id: bytes
    public_key: bytes
    alg: int
    sign_count: int
    aaguid: str
    fmt: str
    transports: tuple[str, ...]
    backup_eligible: bool
    backup_state: bool
    user_verified: bool
    discoverable: bool | None
    attachment: str | None
    name: str
    possible_clone: bool
    created_at: datetime
    last_used_at: datetime | None


@dataclass(frozen=True)
class Challenge:
    id: str
    tenant_id: str
    kind: str
    user_id: str | None
    challenge: bytes
    context: dict[str, Any]
    created_at: datetime
    expires_at: datetime
    consumed_at: datetime | None


@dataclass(frozen=True)
class Event:
    id: str
    tenant_id: str
    kind: str
    outcome: str
    reason: str | None
    user_id: str | None
    credential_id: str | None
    ip: str | None
    user_agent: str | None
    created_at: datetime
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Action:
    id: str
    tenant_id: str
    user_id: str
    action: str
    idempotency_key: str
    state: str
    scope: str
    verification_method: str | None
    credential_id: str | None
    attributes: dict[str, Any]
    created_at: datetime
    state_updated_at: datetime
    # A sign-in without the backend's action token: the browser named the action itself.
    anonymous: bool = False

    @property
    def scopes(self) -> frozenset[str]:
        return frozenset(self.scope.split())


@dataclass(frozen=True)
class Flow:
    """A self-service flow of the hosted pages (login, registration, recovery, settings)."""

    id: str
    tenant_id: str
    directory_id: str
    kind: str
    state: str
    cookie_hash: bytes
    user_id: str | None
    context: dict[str, Any]
    created_at: datetime
    expires_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class SsoSession:
    """A signed-in browser on the hosted pages, shared by the tenant's apps."""

    id: str
    tenant_id: str
    user_id: str
    token_hash: bytes
    amr: list[str]
    auth_time: datetime
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    # The passkey that signed the browser in; None for a password.
    credential_id: str | None = None
