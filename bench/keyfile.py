"""The seed key file: what a load generator needs to sign in as any seeded user.

Ids and user handles derive from one random seed; a few EC key pairs are shared round-robin
by the credentials. Written by `python -m bench.seed`, read by `bench.signin --seeded`.
"""

from __future__ import annotations

import hashlib
import json
import struct
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec

from bench.credentials import BenchCredential

FORMAT = "latchkey-bench-seed/1"


def derive(seed: bytes, label: bytes, tenant: int, user: int, size: int = 32) -> bytes:
    return hashlib.blake2b(
        label + struct.pack(">II", tenant, user), key=seed, digest_size=size
    ).digest()


def external_id(tenant: int, user: int) -> str:
    return f"seed-{tenant}-{user:07d}"


def private_key(scalar: str) -> ec.EllipticCurvePrivateKey:
    return ec.derive_private_key(int(scalar, 16), ec.SECP256R1())


@dataclass(frozen=True)
class Plan:
    database_url: str
    tenants: int
    users_per_tenant: int
    keys: list[str]  # private scalars, hex
    seed: bytes
    origin: str

    def key_index(self, tenant: int, user: int) -> int:
        return (tenant * self.users_per_tenant + user) % len(self.keys)


def write_key_file(path: Path, plan: Plan, made: list[dict[str, str]]) -> None:
    """What load_seeded reads back: the ids' seed, the private keys and the tenants' secrets."""
    document = {
        "format": FORMAT,
        "database_url": plan.database_url,
        "rp_id": "localhost",
        "origin": plan.origin,
        "seed": plan.seed.hex(),
        "users_per_tenant": plan.users_per_tenant,
        "keys": plan.keys,
        "tenants": made,
    }
    path.touch(mode=0o600)
    path.chmod(0o600)
    path.write_text(json.dumps(document))


@dataclass(frozen=True)
class Seeded:
    database_url: str
    origin: str
    tenant_id: str
    secret: str
    total: int
    credentials: list[BenchCredential]


def load_seeded(path: Path, *, tenant: int = 0, count: int = 256) -> Seeded:
    """`count` of tenant `tenant`'s seeded passkeys, spread over its users, ready to sign."""
    data: Mapping[str, Any] = json.loads(path.read_text())
    if data.get("format") != FORMAT:
        raise ValueError(f"{path} is not a {FORMAT} key file")
    per = int(data["users_per_tenant"])
    plan = Plan(
        data["database_url"],
        len(data["tenants"]),
        per,
        data["keys"],
        bytes.fromhex(data["seed"]),
        data["origin"],
    )
    keys = [private_key(k) for k in plan.keys]
    picked = sorted({i * per // min(count, per) for i in range(min(count, per))})
    held = [
        BenchCredential(
            credential_id=derive(plan.seed, b"credential", tenant, u),
            private_key=keys[plan.key_index(tenant, u)],
            user_handle=derive(plan.seed, b"handle", tenant, u),
            username=external_id(tenant, u),
            rp_id=data["rp_id"],
            origin=plan.origin,
        )
        for u in picked
    ]
    chosen = data["tenants"][tenant]
    return Seeded(
        plan.database_url, plan.origin, chosen["id"], chosen["secret"], plan.tenants * per, held
    )
