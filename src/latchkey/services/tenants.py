"""Tenants: one relying party each (RP ID, name, expected origins, passkey policy)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sqlalchemy import Connection

from latchkey.errors import ConfigError, TenantNotFound
from latchkey.ids import new_id
from latchkey.models import Tenant
from latchkey.runtime import Runtime
from latchkey.services import api_keys, directories
from latchkey.services import domains as tenant_domains
from latchkey.services.operators import CLI, Operator
from latchkey.services.origins import (
    validate_origins,
    validate_related_origins,
    validate_rp_id,
)
from latchkey.store import tenants as tenant_store
from latchkey.webauthn.policy import PasskeyPolicy


def _check_name(label: str, value: str) -> str:
    value = value.strip()
    if not value or len(value) > 200:
        raise ConfigError(f"{label} must be 1 to 200 characters")
    return value


def create(
    rt: Runtime,
    *,
    rp_id: str,
    origins: list[str],
    rp_name: str | None = None,
    name: str | None = None,
    policy: PasskeyPolicy | None = None,
    domains: list[str] | None = None,
    related_origins: list[str] | None = None,
) -> tuple[Tenant, str]:
    """Create a tenant and its first secret key; the key is returned here and never again."""
    rp_id = validate_rp_id(rp_id)
    now = rt.now()
    tenant = Tenant(
        id=new_id(),
        name=_check_name("name", name or rp_name or rp_id),
        rp_id=rp_id,
        rp_name=_check_name("RP name", rp_name or rp_id),
        origins=validate_origins(origins, rp_id),
        policy=policy or PasskeyPolicy(),
        created_at=now,
        updated_at=now,
        related_origins=validate_related_origins(related_origins or [], rp_id),
    )
    with rt.transaction() as conn:
        tenant_store.add(conn, tenant)
        directories.create_default(conn, rt, tenant.id)
        tenant_domains.claim(conn, rt, tenant, domains or [])
        secret = api_keys.issue(conn, rt, tenant_id=tenant.id)
    return tenant, secret


def get(rt: Runtime, tenant_id: str) -> Tenant:
    def load() -> Tenant | None:
        with rt.read() as conn:
            return tenant_store.get(conn, tenant_id)

    # Every request resolves its tenant; settings changed elsewhere apply within seconds.
    tenant: Tenant | None = rt.cache("tenants").get(tenant_id, load)
    if tenant is None:
        raise TenantNotFound(f"no tenant {tenant_id!r}")
    return tenant


def list_all(rt: Runtime) -> list[Tenant]:
    with rt.transaction() as conn:
        return tenant_store.list_all(conn)


def all_web_origins(rt: Runtime) -> frozenset[str]:
    """Every tenant's web origins: the browsers that may call the client API at all."""
    with rt.read() as conn:
        found = tenant_store.list_all(conn)
    return frozenset(origin for tenant in found for origin in tenant.web_origins)


def any_exist(rt: Runtime) -> bool:
    with rt.transaction() as conn:
        return tenant_store.any_exist(conn)


def update(
    rt: Runtime,
    tenant_id: str,
    *,
    rp_id: str | None = None,
    rp_name: str | None = None,
    name: str | None = None,
    origins: list[str] | None = None,
    policy_changes: dict[str, Any] | None = None,
    related_origins: list[str] | None = None,
    by: Operator = CLI,
) -> Tenant:
    """Change settings; the whole result is validated before anything is written. Changing the
    RP ID is a global operator's act: it invalidates every passkey of the tenant."""
    with rt.transaction() as conn:
        tenant = tenant_store.get(conn, tenant_id)
        if tenant is None:
            raise TenantNotFound(f"no tenant {tenant_id!r}")
        new_rp_id = validate_rp_id(rp_id) if rp_id is not None else tenant.rp_id
        if new_rp_id != tenant.rp_id:
            by.require_global("change a tenant's RP ID (it invalidates all the tenant's passkeys)")
            _check_domains_under(conn, tenant_id, new_rp_id)
        policy = tenant.policy
        if policy_changes:
            policy = PasskeyPolicy.from_dict(policy.to_dict() | policy_changes)
        changed = replace(
            tenant,
            rp_id=new_rp_id,
            rp_name=_check_name("RP name", rp_name) if rp_name is not None else tenant.rp_name,
            name=_check_name("name", name) if name is not None else tenant.name,
            # Origins are re-checked against a changed RP ID even when they are not changed.
            origins=validate_origins(list(origins or tenant.origins), new_rp_id),
            related_origins=validate_related_origins(
                tenant.related_origins if related_origins is None else related_origins, new_rp_id
            ),
            policy=policy,
            updated_at=rt.now(),
        )
        tenant_store.save(conn, changed)
    rt.cache("tenants").forget(tenant_id)
    return changed


def for_domain(rt: Runtime, domain: str) -> Tenant:
    """The tenant that claimed this host name as its domain."""
    with rt.read() as conn:
        tenant = tenant_store.by_domain(conn, domain)
    if tenant is None:
        raise TenantNotFound(f"no tenant serves the domain {domain!r}")
    return tenant


def domains(rt: Runtime, tenant_id: str) -> list[str]:
    with rt.read() as conn:
        return tenant_store.domains_of(conn, tenant_id)


def set_domains(
    rt: Runtime, tenant_id: str, domains: list[str], *, by: Operator = CLI
) -> list[str]:
    """Assign host names to the tenant (a global operator's act); new ones serve nothing until
    proved (services/domains.py)."""
    with rt.transaction() as conn:
        tenant = tenant_store.get(conn, tenant_id)
        if tenant is None:
            raise TenantNotFound(f"no tenant {tenant_id!r}")
        if tenant_domains.normalize(domains) != tenant_store.domains_of(conn, tenant_id):
            by.require_global("assign domains to a tenant")
        return tenant_domains.claim(conn, rt, tenant, domains)


def _check_domains_under(conn: Connection, tenant_id: str, rp_id: str) -> None:
    for domain in tenant_store.domains_of(conn, tenant_id):
        if domain != rp_id and not domain.endswith("." + rp_id):
            raise ConfigError(
                f"domain {domain!r} is not under the new RP ID {rp_id!r}: remove it first"
            )
