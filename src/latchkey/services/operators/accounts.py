"""Operators of the portal and their one-time enrolment links.

`latchkey admin create` makes an operator (global, or scoped to one tenant) and a link that lets
them register a passkey once: 256 random bits in the URL fragment (never sent in a request line
or a Referer), stored as a SHA-256 hash, single use, expiring.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Connection

from latchkey.errors import InvalidRequest, NotFound, TenantNotFound
from latchkey.ids import new_id, new_token, new_user_handle
from latchkey.runtime import Runtime
from latchkey.services.operators import CLI, Operator
from latchkey.store import operators as operator_store
from latchkey.store import tenants as tenant_store

ENROLMENT_PATH = "/portal/enrol"
DEFAULT_LINK_HOURS = 24
MAX_LINK_HOURS = 24 * 7


class OperatorNotFound(NotFound):
    code = "operator_not_found"


@dataclass(frozen=True)
class OperatorAccount:
    id: str
    name: str
    tenant_id: str | None
    created_at: datetime
    disabled_at: datetime | None

    @classmethod
    def of(cls, row: Any) -> OperatorAccount:
        return cls(row.id, row.name, row.tenant_id, row.created_at, row.disabled_at)

    def principal(self) -> Operator:
        """The management API's principal for this operator signed in to the portal."""
        return Operator(id=self.id, name=self.name, tenant_id=self.tenant_id, method="portal")


@dataclass(frozen=True)
class EnrolmentLink:
    operator: OperatorAccount
    url: str
    expires_at: datetime


def secret_hash(secret: str) -> bytes:
    return hashlib.sha256(secret.encode("utf-8")).digest()


def _check_name(name: str) -> str:
    name = (name or "").strip()
    if not 1 <= len(name) <= 100 or any(ord(ch) < 32 or ord(ch) == 127 for ch in name):
        raise InvalidRequest("an operator name is 1 to 100 printable characters")
    return name


def portal_origin(rt: Runtime) -> str:
    """The portal's own origin: the public URL's scheme, host and port."""
    parts = urlsplit(rt.public_url)
    return f"{parts.scheme}://{parts.netloc}"


def portal_rp_id(rt: Runtime) -> str:
    """The portal's RP ID: the public URL's host (e.g. localhost, latchkey.example.com)."""
    return urlsplit(rt.public_url).hostname or "localhost"


def create(
    rt: Runtime,
    *,
    name: str,
    tenant_id: str | None = None,
    hours: int = DEFAULT_LINK_HOURS,
    by: Operator = CLI,
) -> EnrolmentLink:
    """A new operator and their first enrolment link, in one transaction."""
    if tenant_id is None:
        by.require_global("make global operators")
    else:
        by.check_tenant(tenant_id)
    operator_id = new_id()
    values = {
        "id": operator_id,
        "tenant_id": tenant_id,
        "name": _check_name(name),
        "user_handle": new_user_handle(),
        "created_by": f"{by.method}:{by.id}"[:255],
        "created_at": rt.now(),
    }
    _check_hours(hours)
    with rt.transaction() as conn:
        if tenant_id is not None and tenant_store.get(conn, tenant_id) is None:
            raise TenantNotFound(f"no tenant {tenant_id!r}")
        operator_store.add_operator(conn, **values)
        return _add_link(conn, rt, operator_id, hours)


def enrolment_link(
    rt: Runtime, operator_id: str, *, hours: int = DEFAULT_LINK_HOURS
) -> EnrolmentLink:
    """A one-time link to add a passkey (a first one, or another after losing one)."""
    _check_hours(hours)
    with rt.transaction() as conn:
        return _add_link(conn, rt, operator_id, hours)


def _check_hours(hours: int) -> None:
    if not 1 <= hours <= MAX_LINK_HOURS:
        raise InvalidRequest(f"an enrolment link lasts 1 to {MAX_LINK_HOURS} hours")


def _add_link(conn: Connection, rt: Runtime, operator_id: str, hours: int) -> EnrolmentLink:
    row = operator_store.operator(conn, operator_id)
    if row is None:
        raise OperatorNotFound(f"no operator {operator_id!r}")
    secret, now = new_token(32), rt.now()
    expires_at = now + timedelta(hours=hours)
    operator_store.add_enrolment(
        conn,
        id=new_id(),
        operator_id=operator_id,
        secret_hash=secret_hash(secret),
        created_at=now,
        expires_at=expires_at,
    )
    url = f"{portal_origin(rt)}{ENROLMENT_PATH}#token={secret}"
    return EnrolmentLink(OperatorAccount.of(row), url, expires_at)


def listed(rt: Runtime) -> list[OperatorAccount]:
    with rt.read() as conn:
        return [OperatorAccount.of(r) for r in operator_store.listed_operators(conn)]
