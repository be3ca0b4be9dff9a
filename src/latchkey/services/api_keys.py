"""Tenant API keys: shown once when made, stored as a SHA-256 hash, looked up by that hash."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from latchkey.errors import InvalidApiKey, NotFound, TenantNotFound
from latchkey.ids import new_id, new_token
from latchkey.runtime import Runtime
from latchkey.store import api_keys as key_store
from latchkey.store import tenants as tenant_store

SECRET = "secret"
_PREFIXES = {SECRET: "lk_secret_"}


def _hash(secret: str) -> bytes:
    return hashlib.sha256(secret.encode("utf-8")).digest()


def issue(conn: Connection, rt: Runtime, *, tenant_id: str, kind: str = SECRET) -> str:
    """Make a key and return its secret; only its hash and a short prefix are kept."""
    secret = _PREFIXES[kind] + new_token(32)
    key_store.add(
        conn,
        key_id=new_id(),
        tenant_id=tenant_id,
        kind=kind,
        prefix=secret[: len(_PREFIXES[kind]) + 4],
        secret_hash=_hash(secret),
        created_at=rt.now(),
    )
    return secret


def tenant_for_secret(rt: Runtime, secret: str, *, kind: str = SECRET) -> str:
    """The tenant whose unrevoked key this is, or InvalidApiKey."""
    if not secret or len(secret) > 200 or not secret.startswith(_PREFIXES[kind]):
        raise InvalidApiKey("the API secret key is missing or not valid")
    digest = _hash(secret)

    def load() -> str | None:
        with rt.read() as conn:
            return key_store.tenant_for_hash(conn, digest, kind)

    # Checked on every backend call; a key revoked elsewhere stops working within seconds.
    tenant_id: str | None = rt.cache("api_keys").get((digest, kind), load)
    if tenant_id is None:
        raise InvalidApiKey("the API secret key is missing or not valid")
    return tenant_id


def issue_for(rt: Runtime, tenant_id: str, *, kind: str = SECRET) -> str:
    """A new key for the tenant in its own transaction (the CLI and the demo use this)."""
    with rt.transaction() as conn:
        return issue(conn, rt, tenant_id=tenant_id, kind=kind)


class ApiKeyNotFound(NotFound):
    code = "api_key_not_found"


@dataclass(frozen=True)
class ApiKey:
    """A key as operators see it: never the secret, only its first characters."""

    id: str
    tenant_id: str
    kind: str
    prefix: str
    created_at: datetime
    revoked_at: datetime | None

    @classmethod
    def of(cls, row: Any) -> ApiKey:
        return cls(row.id, row.tenant_id, row.kind, row.prefix, row.created_at, row.revoked_at)


def create(rt: Runtime, tenant_id: str) -> tuple[ApiKey, str]:
    """A new secret key for the tenant; the secret is returned here and never again."""
    with rt.transaction() as conn:
        if tenant_store.get(conn, tenant_id) is None:
            raise TenantNotFound(f"no tenant {tenant_id!r}")
        secret = issue(conn, rt, tenant_id=tenant_id)
        return ApiKey.of(key_store.by_hash(conn, _hash(secret))), secret


def list_for(rt: Runtime, tenant_id: str) -> list[ApiKey]:
    with rt.read() as conn:
        return [ApiKey.of(row) for row in key_store.for_tenant(conn, tenant_id)]


def revoke(rt: Runtime, tenant_id: str, key_id: str) -> ApiKey:
    """Revoke the key; this process stops accepting it at once, others within seconds."""
    with rt.transaction() as conn:
        row = key_store.get(conn, tenant_id, key_id)
        if row is None:
            raise ApiKeyNotFound(f"no API key {key_id!r}")
        key_store.revoke(conn, tenant_id, key_id, rt.now())
        revoked = ApiKey.of(key_store.get(conn, tenant_id, key_id))
    rt.cache("api_keys").forget((row.secret_hash, row.kind))
    return revoked
