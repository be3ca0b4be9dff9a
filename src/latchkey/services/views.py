"""JSON views of records (camelCase): what the HTTP APIs answer with, and the `before` and
`after` of operators' audit events (services/operator_changes.py), so an event records a change
exactly as the management API shows it. A view never carries a secret: those appear once, in
the answer that creates them. Imports records and services only, never an HTTP surface."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal, Self

import msgspec

from latchkey.models import App, Credential, Directory, Tenant, User
from latchkey.runtime import Runtime
from latchkey.services import app_origins, apps, domains, tenants
from latchkey.services.domains import DomainStatus
from latchkey.services.pools import Pool
from latchkey.webauthn.aaguids import provider_name
from latchkey.webauthn.encoding import b64url


class Out(msgspec.Struct, rename="camel", kw_only=True):
    """A response body."""


class View(Out):
    """A view whose fields are the model's attributes of the same names."""

    @classmethod
    def of(cls, source: Any) -> Self:
        return msgspec.convert(source, cls, from_attributes=True)


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


def tenant_view(rt: Runtime, tenant: Tenant) -> TenantOut:
    """The tenant with its domains and their proof, read now."""
    return TenantOut.of(tenant, domains.statuses(rt, tenant.id))


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
    ios_origins: Annotated[
        list[str],
        msgspec.Meta(
            description="The origin iOS reports for this app's passkey ceremonies (https://"
            " and the tenant's RP ID), accepted for the tenant's native ceremonies once the"
            " iOS team and bundle ids are set; derived, so not written"
        ),
    ]
    created_at: datetime
    updated_at: datetime
    refresh_token_lifetime: int
    audiences: list[str]

    @classmethod
    def of(cls, a: App, rp_id: str) -> AppOut:
        """The app as its tenant (with this RP ID) serves it."""
        ios = app_origins.ios_origin(a, rp_id)
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
            ios_origins=[ios] if ios else [],
            created_at=a.created_at,
            updated_at=a.updated_at,
            refresh_token_lifetime=int(apps.family_lifetime(a).total_seconds()),
            audiences=list(a.audiences),
        )


def app_view(rt: Runtime, app: App) -> AppOut:
    """The app as its tenant serves it (its iOS origin is on the tenant's RP ID)."""
    return AppOut.of(app, tenants.get(rt, app.tenant_id).rp_id)


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


class TokenOut(View):
    id: str
    name: str
    tenant_id: str | None
    prefix: str
    created_by: str
    created_at: datetime
    revoked_at: datetime | None


class CredentialOut(Out):
    id: str
    credential_id: str
    name: str
    aaguid: str
    provider: str | None
    device_type: Literal["multi_device", "single_device"]
    backup_eligible: bool
    backed_up: bool
    attachment: str | None
    transports: list[str]
    user_verified: bool
    discoverable: bool | None
    sign_count: int
    possible_clone: bool
    created_at: datetime
    last_used_at: datetime | None

    @classmethod
    def of(cls, c: Credential) -> CredentialOut:
        return cls(
            id=c.id,
            credential_id=b64url(c.credential_id),
            name=c.name,
            aaguid=c.aaguid,
            provider=provider_name(c.aaguid),
            device_type="multi_device" if c.backup_eligible else "single_device",
            backup_eligible=c.backup_eligible,
            backed_up=c.backup_state,
            attachment=c.attachment,
            transports=list(c.transports),
            user_verified=c.user_verified,
            discoverable=c.discoverable,
            sign_count=c.sign_count,
            possible_clone=c.possible_clone,
            created_at=c.created_at,
            last_used_at=c.last_used_at,
        )


class EndpointOut(View):
    id: str
    url: str
    event_types: list[str]
    secret_prefix: str
    description: str
    enabled: bool
    created_at: datetime
    updated_at: datetime
    previous_secret_expires_at: datetime | None
