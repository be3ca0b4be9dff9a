"""Bodies of the management API (camelCase on the wire), and the views it answers with that
are not also audit events' `before` and `after` (those are in services/views.py)."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from msgspec import UNSET, UnsetType

from latchkey.api.schemas import Body
from latchkey.services.user_admin import UserView
from latchkey.services.views import (
    ApiKeyOut,
    AppOut,
    CredentialOut,
    Out,
    TenantOut,
    TokenOut,
    UserOut,
    View,
)
from latchkey.webauthn.policy import PRESETS, PasskeyPolicy

Text = Annotated[str, msgspec.Meta(max_length=200)]
Url = Annotated[str, msgspec.Meta(max_length=2048)]
Urls = Annotated[list[Url], msgspec.Meta(max_length=50)]
Aaguids = Annotated[list[Annotated[str, msgspec.Meta(max_length=36)]], msgspec.Meta(max_length=500)]
# Per attestation format: PEM trust anchors, or "none" (the RP holds no anchor for it).
Anchors = (
    Annotated[list[Annotated[str, msgspec.Meta(max_length=16384)]], msgspec.Meta(max_length=20)]
    | str
)


class PolicyBody(Body):
    """Passkey policy changes; a field left out keeps its value."""

    user_verification: str | UnsetType = UNSET
    resident_key: str | UnsetType = UNSET
    attestation: str | UnsetType = UNSET
    algorithms: Annotated[list[Text], msgspec.Meta(max_length=10)] | UnsetType = UNSET
    timeout_ms: int | UnsetType = UNSET
    allow_synced: bool | UnsetType = UNSET
    authenticator_attachment: str | UnsetType | None = UNSET
    # Attestation policy (docs/attestation.md); a preset is applied first, the fields after it.
    policy_preset: str | UnsetType = UNSET
    aaguid_allow: Aaguids | UnsetType = UNSET
    aaguid_deny: Aaguids | UnsetType = UNSET
    min_certification: str | UnsetType | None = UNSET
    key_protection: str | UnsetType | None = UNSET
    attestation_anchors: (
        Annotated[
            dict[Annotated[str, msgspec.Meta(max_length=32)], Anchors], msgspec.Meta(max_length=6)
        ]
        | UnsetType
    ) = UNSET
    status_rule: str | UnsetType = UNSET

    def changes(self) -> dict[str, Any]:
        given = {
            name: value
            for name in self.__struct_fields__
            if (value := getattr(self, name)) is not UNSET and name != "policy_preset"
        }
        if isinstance(self.policy_preset, str):
            PasskeyPolicy.preset(self.policy_preset)  # an unknown name is refused, naming them
            return dict(PRESETS[self.policy_preset]) | given
        return given


class TenantCreate(Body):
    rp_id: Annotated[str, msgspec.Meta(max_length=253)]
    origins: Urls
    rp_name: Text | None = None
    name: Text | None = None
    related_origins: Urls | None = None
    domains: Annotated[list[Text], msgspec.Meta(max_length=20)] | None = None
    policy: PolicyBody | None = None


class TenantUpdate(Body):
    rp_id: Annotated[str, msgspec.Meta(max_length=253)] | None = None
    origins: Urls | None = None
    rp_name: Text | None = None
    name: Text | None = None
    related_origins: Urls | None = None
    domains: Annotated[list[Text], msgspec.Meta(max_length=20)] | None = None
    policy: PolicyBody | None = None


def tenant_changes(body: TenantCreate | TenantUpdate) -> dict[str, Any]:
    """A tenant body as services/operator_changes.py takes it (None: left as it is)."""
    return {
        "rp_id": body.rp_id,
        "rp_name": body.rp_name,
        "name": body.name,
        "origins": body.origins,
        "policy_changes": body.policy.changes() if body.policy else None,
        "domains": body.domains,
        "related_origins": body.related_origins,
    }


class RetentionBody(Body):
    # Days to keep events; null keeps them for ever.
    days: int | None


class AnonymousActionsBody(Body):
    # The names a sign-in without an action token may carry; null: any name not tracked.
    names: (
        Annotated[list[Annotated[str, msgspec.Meta(max_length=64)]], msgspec.Meta(max_length=50)]
        | None
    )


class TenantCreated(Out):
    tenant: TenantOut
    # Shown once: Latchkey keeps only its hash.
    secret_key: str


class AppSettings(Body):
    name: Text | None = None
    redirect_uris: Urls | None = None
    grant_types: Annotated[list[Text], msgspec.Meta(max_length=5)] | None = None
    ios_team_id: Annotated[str, msgspec.Meta(max_length=10)] | None = None
    ios_bundle_id: Text | None = None
    android_package: Text | None = None
    android_fingerprints: Annotated[list[Text], msgspec.Meta(max_length=20)] | None = None
    # Seconds a refresh-token family lives from its sign-in (default 30 days).
    refresh_token_lifetime: int | None = None
    # APIs its access tokens may be for; the first is the default (none: the tenant's own).
    audiences: Annotated[list[Text], msgspec.Meta(max_length=20)] | None = None

    def settings(self) -> dict[str, Any]:
        """The settings given (a field left out keeps its value)."""
        return {k: v for k, v in msgspec.structs.asdict(self).items() if v is not None}


class AppCreate(AppSettings):
    type: str = "native"
    confidential: bool = False


class AppCreated(Out):
    app: AppOut
    # Only for a confidential app, shown once.
    client_secret: str | None


Identifiers = Annotated[dict[str, str], msgspec.Meta(max_length=3)]


class DirectoryCreate(Body):
    name: Annotated[str, msgspec.Meta(max_length=64)]
    identifiers: Identifiers


class DirectoryUpdate(Body):
    identifiers: Identifiers


class ApiKeyCreated(Out):
    key: ApiKeyOut
    secret: str


class RotateBody(Body):
    alg: str = "ES256"


class UserDetail(Out):
    user: UserOut
    identifiers: dict[str, str]
    passkeys: list[CredentialOut]

    @classmethod
    def of(cls, v: UserView) -> UserDetail:
        return cls(
            user=UserOut.of(v.user),
            identifiers=v.identifiers,
            passkeys=[CredentialOut.of(c) for c in v.passkeys],
        )


class PasskeyRename(Body):
    name: Annotated[str, msgspec.Meta(max_length=100)]


class TokenCreate(Body):
    name: Annotated[str, msgspec.Meta(max_length=100)]
    # Leave out for a global token (only a global operator may make one).
    tenant_id: Annotated[str, msgspec.Meta(max_length=36)] | None = None


class TokenCreated(Out):
    token: TokenOut
    # Shown once: Latchkey keeps only its hash.
    secret: str


class OperatorOut(View):
    id: str
    name: str
    tenant_id: str | None
    method: str
