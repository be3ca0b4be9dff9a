"""Operator accounts, without HTTP: this module is the principal every management call runs as (an
Operator) and its API tokens; beside it the operators of the portal and their enrolment links
(accounts.py), their passkeys on the shared ceremony with the portal as relying party
(ceremonies.py) and portal sessions with their CSRF token (sessions.py); their rows are in
store/operators.py. It may import the other services, latchkey.runtime, the store and the records
(models, errors, ids, event_kinds); never latchkey.api or the CLI (they call it).

Operators: who may use the management API, and their API tokens.

An `Operator` is the principal every management call runs as, whatever proved it: an API token
today (`Authorization: Bearer lk_op_...`), a portal session later. Its scope is one tenant or,
with `tenant_id` None, every tenant. Tokens are 256 random bits behind a recognisable prefix,
shown once when made and stored as a SHA-256 hash, as API keys are.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from latchkey.errors import Forbidden, InvalidRequest, NotFound, TenantNotFound, Unauthorized
from latchkey.ids import new_id, new_token
from latchkey.runtime import Runtime
from latchkey.store import operator_tokens as token_store
from latchkey.store import tenants as tenant_store

TOKEN_PREFIX = "lk_op_"
_SHOWN = len(TOKEN_PREFIX) + 4


class InvalidOperatorToken(Unauthorized):
    code = "invalid_operator_token"


class GlobalOperatorRequired(Forbidden):
    code = "global_operator_required"


class OperatorTokenNotFound(NotFound):
    code = "operator_token_not_found"


@dataclass(frozen=True)
class Operator:
    """The caller of a management operation."""

    id: str
    name: str
    # None: a global operator, who may act on every tenant and make tenants and global tokens.
    tenant_id: str | None
    # How the operator proved who they are: "token" (API token), "cli"; the portal adds its own.
    method: str = "token"

    @property
    def is_global(self) -> bool:
        return self.tenant_id is None

    def can_see(self, tenant_id: str | None) -> bool:
        return self.is_global or (tenant_id is not None and tenant_id == self.tenant_id)

    def check_tenant(self, tenant_id: str) -> None:
        """Another tenant's id is answered as unknown, as every surface does (no existence
        oracle)."""
        if not self.can_see(tenant_id):
            raise TenantNotFound(f"no tenant {tenant_id!r}")

    def require_global(self, what: str) -> None:
        if not self.is_global:
            raise GlobalOperatorRequired(f"only a global operator token may {what}")

    def as_actor(self) -> dict[str, Any]:
        """How audit events name the operator (never anything secret)."""
        return {"type": self.method, "id": self.id, "name": self.name, "tenantId": self.tenant_id}


# The operator behind a command typed on the server itself (it can read the database anyway).
CLI = Operator(id="cli", name="latchkey CLI", tenant_id=None, method="cli")


def local(user: str) -> Operator:
    """The operator behind a `latchkey` command, named for the account that typed it (its
    changes' events say `{"type": "cli", "id": user}`): global, as it can read the database
    anyway."""
    return Operator(id=user, name=user, tenant_id=None, method="cli")


@dataclass(frozen=True)
class OperatorToken:
    id: str
    tenant_id: str | None
    name: str
    prefix: str
    created_by: str
    created_at: datetime
    revoked_at: datetime | None

    @classmethod
    def of(cls, row: Any) -> OperatorToken:
        return cls(
            id=row.id,
            tenant_id=row.tenant_id,
            name=row.name,
            prefix=row.prefix,
            created_by=row.created_by,
            created_at=row.created_at,
            revoked_at=row.revoked_at,
        )


def _hash(secret: str) -> bytes:
    return hashlib.sha256(secret.encode("utf-8")).digest()


def _check_name(name: str) -> str:
    name = (name or "").strip()
    if not 1 <= len(name) <= 100 or any(ord(ch) < 32 for ch in name):
        raise InvalidRequest("a token name is 1 to 100 printable characters")
    return name


def create_token(
    rt: Runtime, *, name: str, tenant_id: str | None = None, by: Operator = CLI
) -> tuple[OperatorToken, str]:
    """Make a token scoped to `tenant_id` (None: global); the secret is returned only here."""
    if tenant_id is None:
        by.require_global("make global operator tokens")
    else:
        by.check_tenant(tenant_id)
    secret = TOKEN_PREFIX + new_token(32)
    token_id = new_id()
    values: dict[str, Any] = {
        "id": token_id,
        "tenant_id": tenant_id,
        "name": _check_name(name),
        "prefix": secret[:_SHOWN],
        "secret_hash": _hash(secret),
        "created_by": f"{by.method}:{by.id}"[:255],
        "created_at": rt.now(),
    }
    with rt.transaction() as conn:
        if tenant_id is not None and tenant_store.get(conn, tenant_id) is None:
            raise TenantNotFound(f"no tenant {tenant_id!r}")
        token_store.add(conn, **values)
        row = token_store.get(conn, token_id)
    return OperatorToken.of(row), secret


def list_tokens(
    rt: Runtime, *, by: Operator = CLI, tenant_id: str | None = None
) -> list[OperatorToken]:
    """The tokens the operator may see: all for a global one (or one tenant's when asked),
    else its own tenant's."""
    scope = tenant_id if by.is_global else by.tenant_id
    with rt.read() as conn:
        return [OperatorToken.of(r) for r in token_store.listed(conn, scope)]


def get_token(rt: Runtime, token_id: str, *, by: Operator = CLI) -> OperatorToken:
    with rt.read() as conn:
        row = token_store.get(conn, token_id)
    if row is None or not by.can_see(row.tenant_id):
        raise OperatorTokenNotFound(f"no operator token {token_id!r}")
    return OperatorToken.of(row)


def revoke_token(rt: Runtime, token_id: str, *, by: Operator = CLI) -> OperatorToken:
    """Revoke at once: tokens are checked against the database on every call, never cached."""
    with rt.transaction() as conn:
        row = token_store.get(conn, token_id)
        if row is None or not by.can_see(row.tenant_id):
            raise OperatorTokenNotFound(f"no operator token {token_id!r}")
        token_store.revoke(conn, token_id, rt.now())
        return OperatorToken.of(token_store.get(conn, token_id))


def authenticate(rt: Runtime, secret: str) -> Operator:
    """The operator an API token stands for, or InvalidOperatorToken."""
    if not secret or len(secret) > 200 or not secret.startswith(TOKEN_PREFIX):
        raise InvalidOperatorToken("send an operator API token: Authorization: Bearer lk_op_...")
    with rt.read() as conn:
        row = token_store.by_hash(conn, _hash(secret))
    if row is None:
        raise InvalidOperatorToken("the operator token is not valid or was revoked")
    return Operator(id=row.id, name=row.name, tenant_id=row.tenant_id)
