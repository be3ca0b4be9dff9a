"""Tenant rows."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from latchkey.models import Tenant
from latchkey.store.tables import tenant_domains, tenants
from latchkey.webauthn.policy import PasskeyPolicy


def _record(row: Any) -> Tenant:
    return Tenant(
        id=row.id,
        name=row.name,
        rp_id=row.rp_id,
        rp_name=row.rp_name,
        origins=tuple(row.origins),
        related_origins=tuple(row.related_origins or ()),
        policy=PasskeyPolicy.from_dict(row.policy),
        created_at=row.created_at,
        updated_at=row.updated_at,
        event_retention_days=row.event_retention_days,
        anonymous_actions=(
            tuple(row.anonymous_actions) if row.anonymous_actions is not None else None
        ),
    )


def add(conn: Connection, tenant: Tenant) -> None:
    conn.execute(insert(tenants).values(**tenant.to_dict()))


def save(conn: Connection, tenant: Tenant) -> None:
    conn.execute(update(tenants).where(tenants.c.id == tenant.id).values(**tenant.to_dict()))


def get(conn: Connection, tenant_id: str) -> Tenant | None:
    row = conn.execute(select(tenants).where(tenants.c.id == tenant_id)).first()
    return _record(row) if row else None


def list_all(conn: Connection) -> list[Tenant]:
    return [_record(r) for r in conn.execute(select(tenants).order_by(tenants.c.created_at))]


def any_exist(conn: Connection) -> bool:
    return conn.execute(select(tenants.c.id).limit(1)).first() is not None


def by_domain(conn: Connection, domain: str) -> Tenant | None:
    """The tenant a proved domain serves (an unproved one serves nothing)."""
    query = select(tenants).join(tenant_domains, tenant_domains.c.tenant_id == tenants.c.id)
    proved = tenant_domains.c.verified_at.is_not(None)
    row = conn.execute(query.where(tenant_domains.c.domain == domain, proved)).first()
    return _record(row) if row else None


def domain_owner(conn: Connection, domain: str) -> str | None:
    """The tenant a domain is assigned to, proved or not."""
    query = select(tenant_domains.c.tenant_id).where(tenant_domains.c.domain == domain)
    found: str | None = conn.execute(query).scalar()
    return found


@dataclass(frozen=True)
class DomainRow:
    domain: str
    verification_token: str
    verified_at: datetime | None


def domains_of(conn: Connection, tenant_id: str) -> list[str]:
    query = select(tenant_domains.c.domain).where(tenant_domains.c.tenant_id == tenant_id)
    return sorted(conn.execute(query).scalars())


def domain_rows(conn: Connection, tenant_id: str) -> list[DomainRow]:
    query = select(tenant_domains).where(tenant_domains.c.tenant_id == tenant_id)
    rows = conn.execute(query.order_by(tenant_domains.c.domain))
    return [DomainRow(r.domain, r.verification_token or "", r.verified_at) for r in rows]


def set_domains(conn: Connection, tenant_id: str, domains: list[str]) -> str | None:
    """Keep the listed domains that are already assigned (with their proof), drop the others,
    add the new ones unproved with a fresh token. Returns a domain another tenant holds (its
    transaction committed after the caller checked), else None; the caller must then roll back.

    The primary key decides a race: the second insert waits for the first transaction and
    fails on the key. The SAVEPOINT keeps that failure from aborting the caller's transaction,
    so the owner can be read (PostgreSQL would refuse every later statement in it)."""
    kept = {row.domain for row in domain_rows(conn, tenant_id)}
    gone = delete(tenant_domains).where(tenant_domains.c.tenant_id == tenant_id)
    conn.execute(gone.where(tenant_domains.c.domain.not_in(domains)))
    for domain in sorted(set(domains) - kept):
        added = insert(tenant_domains).values(
            domain=domain, tenant_id=tenant_id, verification_token=secrets.token_urlsafe(24)
        )
        try:
            with conn.begin_nested():
                conn.execute(added)
        except IntegrityError:
            if domain_owner(conn, domain) in (None, tenant_id):
                raise  # not the race on the domain: some other constraint
            return domain
    return None


def mark_proved(conn: Connection, tenant_id: str, domain: str, at: datetime) -> None:
    where = (tenant_domains.c.tenant_id == tenant_id) & (tenant_domains.c.domain == domain)
    conn.execute(update(tenant_domains).where(where).values(verified_at=at))
