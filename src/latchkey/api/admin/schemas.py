"""Bodies and views of the management API (camelCase on the wire). A view never carries a
secret: those appear once, in the answer that creates them. Views are also the `before` and
`after` of audit events."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Self

import msgspec
from msgspec import UNSET, UnsetType

from latchkey.api.schemas import Body, CredentialOut, Out
from latchkey.models import App, Directory, Tenant, User
from latchkey.oauth2 import tokens
from latchkey.services import app_origins
from latchkey.services.domains import DomainStatus
from latchkey.services.pools import Pool
from latchkey.services.user_admin import UserView
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


class View(Out):
    """A view whose fields are the model's attributes of the same names."""

    @classmethod
    def of(cls, source: Any) -> Self:
        return msgspec.convert(source, cls, from_attributes=True)


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


class RetentionBody(Body):
    # Days to keep events; null keeps them for ever.
    days: int | None


class AnonymousActionsBody(Body):
    # The names a sign-in without an action token may carry; null: any name not tracked.
    names: (
        Annotated[list[Annotated[str, msgspec.Meta(max_length=64)]], msgspec.Meta(max_length=50)]
        | None
    )


class DomainOut(Out):
    """A domain of the tenant and what its owner publishes to prove it (services/domains.py);
    it serves the tenant only once proved."""

    domain: str
    proved: bool
    verified_at: datetime | None
    txt_record: str
    txt_value: str
    file_url: str

    @classmethod
    def of(cls, status: DomainStatus) -> DomainOut:
        return cls(
            domain=status.domain,
            proved=status.verified_at is not None,
            verified_at=status.verified_at,
            txt_record=status.record_name,
            txt_value=status.value,
            file_url=status.file_url(),
        )


class TenantOut(Out):
    id: str
    name: str
    rp_id: str
    rp_name: str
    origins: list[str]
    related_origins: list[str]
    domains: list[str]
    domain_proof: list[DomainOut]
    policy: dict[str, Any]
    event_retention_days: int | None
    anonymous_actions: list[str] | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, t: Tenant, proof: list[DomainStatus]) -> TenantOut:
        return cls(
            id=t.id,
            name=t.name,
            rp_id=t.rp_id,
            rp_name=t.rp_name,
            origins=list(t.origins),
            related_origins=list(t.related_origins),
            domains=[p.domain for p in proof],
            domain_proof=[DomainOut.of(p) for p in proof],
            policy=t.policy.to_dict(),
            event_retention_days=t.event_retention_days,
            anonymous_actions=list(t.anonymous_actions)
            if t.anonymous_actions is not None
            else None,
            created_at=t.created_at,
            updated_at=t.updated_at,
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


class AppCreate(AppSettings):
    type: str = "native"
    confidential: bool = False


class AppOut(Out):
    client_id: str
    name: str
    type: str
    confidential: bool
    redirect_uris: list[str]
    grant_types: list[str]
    ios_team_id: str | None
    ios_bundle_id: str | None
    android_package: str | None
    android_fingerprints: list[str]
    android_origins: list[str]
    created_at: datetime
    updated_at: datetime
    refresh_token_lifetime: int
    audiences: list[str]

    @classmethod
    def of(cls, a: App) -> AppOut:
        return cls(
            client_id=a.client_id,
            name=a.name,
            type=a.app_type,
            confidential=a.confidential,
            redirect_uris=list(a.redirect_uris),
            grant_types=list(a.grant_types),
            ios_team_id=a.ios_team_id,
            ios_bundle_id=a.ios_bundle_id,
            android_package=a.android_package,
            android_fingerprints=list(a.android_fingerprints),
            android_origins=list(app_origins.android_origins(a)),
            created_at=a.created_at,
            updated_at=a.updated_at,
            refresh_token_lifetime=int(tokens.family_lifetime(a).total_seconds()),
            audiences=list(a.audiences),
        )


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


class DirectoryOut(Out):
    id: str
    name: str
    default: bool
    identifiers: dict[str, str]
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, d: Directory) -> DirectoryOut:
        return cls(
            id=d.id,
            name=d.name,
            default=d.is_default,
            identifiers=dict(d.identifiers),
            created_at=d.created_at,
            updated_at=d.updated_at,
        )


class PoolOut(Out):
    id: str
    name: str
    # The hosted pages' settings (docs/identity-pools.md), as `PATCH` takes them.
    settings: dict[str, Any]

    @classmethod
    def of(cls, p: Pool) -> PoolOut:
        return cls(id=p.id, name=p.directory.name, settings=p.settings.to_json())


class ApiKeyOut(View):
    id: str
    kind: str
    prefix: str
    created_at: datetime
    revoked_at: datetime | None


class ApiKeyCreated(Out):
    key: ApiKeyOut
    secret: str


class RotateBody(Body):
    alg: str = "ES256"


class SigningKeyOut(View):
    kid: str
    alg: str
    state: str
    created_at: datetime
    retired_at: datetime | None


class UserOut(Out):
    id: str
    user_id: str
    username: str | None
    display_name: str | None
    email: str | None
    phone_number: str | None
    directory_id: str
    disabled: bool
    disabled_at: datetime | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, u: User) -> UserOut:
        return cls(
            id=u.id,
            user_id=u.external_id,
            username=u.username,
            display_name=u.display_name,
            email=u.email,
            phone_number=u.phone_number,
            directory_id=u.directory_id,
            disabled=u.disabled_at is not None,
            disabled_at=u.disabled_at,
            created_at=u.created_at,
            updated_at=u.updated_at,
        )


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


class TokenOut(View):
    id: str
    name: str
    tenant_id: str | None
    prefix: str
    created_by: str
    created_at: datetime
    revoked_at: datetime | None


class TokenCreated(Out):
    token: TokenOut
    # Shown once: Latchkey keeps only its hash.
    secret: str


class OperatorOut(View):
    id: str
    name: str
    tenant_id: str | None
    method: str
