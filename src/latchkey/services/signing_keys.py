"""Per-tenant token signing keys: made on first use, rotated from the CLI, private halves sealed
with the master key, public halves published as the tenant's JWKS."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from joserfc.jwk import ECKey, KeyParameters, KeySet, RSAKey
from sqlalchemy import Connection

from latchkey.errors import ConfigError
from latchkey.ids import new_token
from latchkey.runtime import Runtime
from latchkey.services import sealing
from latchkey.store import signing_keys as key_store

ALGORITHMS = ("ES256", "RS256")
# The longest-lived token these keys sign; a retired key stays published this long.
SIGNED_TOKEN_LIFETIME = timedelta(hours=1)

SigningKey = ECKey | RSAKey


def _parameters(kid: str, alg: str) -> KeyParameters:
    return {"kid": kid, "use": "sig", "alg": alg}


def _generate(alg: str, kid: str) -> SigningKey:
    parameters = _parameters(kid, alg)
    if alg == "ES256":
        return ECKey.generate_key("P-256", parameters=parameters, private=True)
    if alg == "RS256":
        return RSAKey.generate_key(2048, parameters=parameters, private=True)
    raise ConfigError(f"signing algorithm {alg!r} is not one of {', '.join(ALGORITHMS)}")


def _context(tenant_id: str, kid: str) -> str:
    return f"signing-key:{tenant_id}:{kid}"


def _add(conn: Connection, rt: Runtime, tenant_id: str, alg: str) -> str:
    kid = new_token(12)
    key = _generate(alg, kid)
    pem = key.as_pem(private=True)
    key_store.add(
        conn,
        kid=kid,
        tenant_id=tenant_id,
        alg=alg,
        sealed_private_key=sealing.seal(rt.master_key, pem, context=_context(tenant_id, kid)),
        public_jwk=key.as_dict(private=False),
        created_at=rt.now(),
    )
    return kid


def _active(conn: Connection, rt: Runtime, tenant_id: str) -> Any:
    """The tenant's active key row; an ES256 key is made on first use."""
    row = key_store.active(conn, tenant_id)
    if row is None:
        _add(conn, rt, tenant_id, "ES256")
        row = key_store.active(conn, tenant_id)
    return row


# Unsealed private keys are kept on the runtime that unsealed them (never process-wide): a
# bounded number, each for a while, so signing a token neither unseals and parses its key every
# time nor keeps decrypted keys in memory for the life of the process. A key id never names
# other key material, so an entry cannot go stale, only old.
KEYS_KEPT = 256
KEY_KEPT_SECONDS = 600.0


def _private(rt: Runtime, tenant_id: str, row: Any) -> SigningKey:
    pem = sealing.unseal(
        rt.master_key, row.sealed_private_key, context=_context(tenant_id, row.kid)
    )
    parameters = _parameters(row.kid, row.alg)
    if row.alg == "ES256":
        return ECKey.import_key(pem, parameters)
    return RSAKey.import_key(pem, parameters)


def signer(conn: Connection, rt: Runtime, tenant_id: str) -> SigningKey:
    """The tenant's active private key (one is made on first use)."""
    row = _active(conn, rt, tenant_id)
    kept = rt.cache("signing-keys", KEY_KEPT_SECONDS, max_entries=KEYS_KEPT)
    key: SigningKey = kept.get((tenant_id, row.kid), lambda: _private(rt, tenant_id, row))
    return key


def rotate(rt: Runtime, tenant_id: str, alg: str = "ES256") -> str:
    """Retire the active key and make a new one; returns the new key id."""
    with rt.transaction() as conn:
        key_store.retire_all(conn, tenant_id, rt.now())
        return _add(conn, rt, tenant_id, alg)


def published(conn: Connection, rt: Runtime, tenant_id: str) -> dict[str, Any]:
    """The public keys that verify the tenant's unexpired tokens."""
    _active(conn, rt, tenant_id)  # published before it signs anything
    rows = key_store.published(conn, tenant_id, rt.now() - SIGNED_TOKEN_LIFETIME)
    # The active key first, then retired ones, most recently retired first.
    rows.sort(key=lambda r: (r.retired_at is not None, -(r.retired_at or r.created_at).timestamp()))
    return {"keys": [dict(row.public_jwk) for row in rows]}


def jwks(rt: Runtime, tenant_id: str) -> dict[str, Any]:
    with rt.transaction() as conn:
        return published(conn, rt, tenant_id)


def key_set(rt: Runtime, tenant_id: str) -> KeySet:
    return KeySet.import_key_set(jwks(rt, tenant_id))  # type: ignore[arg-type]


@dataclass(frozen=True)
class KeyInfo:
    kid: str
    alg: str
    created_at: datetime
    retired_at: datetime | None
    # active (signs now), published (retired, still verifying its tokens) or retired.
    state: str


def listed(rt: Runtime, tenant_id: str) -> list[KeyInfo]:
    """The tenant's keys, newest first, with what each is for now."""
    with rt.read() as conn:
        rows = key_store.for_tenant(conn, tenant_id)
    horizon = rt.now() - SIGNED_TOKEN_LIFETIME
    active = next((r.kid for r in rows if r.retired_at is None), None)

    def state(row: Any) -> str:
        if row.kid == active:
            return "active"
        return "published" if row.retired_at and row.retired_at > horizon else "retired"

    return [KeyInfo(r.kid, r.alg, r.created_at, r.retired_at, state(r)) for r in rows]
