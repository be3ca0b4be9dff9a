"""services/signing_keys.py: unsealed private keys are kept on the runtime that unsealed them,
bounded and for a limited time, never process-wide."""

from __future__ import annotations

import pytest

from latchkey.errors import ConfigError
from latchkey.models import Tenant
from latchkey.runtime import Runtime
from latchkey.services import signing_keys


def _signer(rt: Runtime, tenant: Tenant) -> signing_keys.SigningKey:
    with rt.transaction() as conn:
        return signing_keys.signer(conn, rt, tenant.id)


def test_the_key_is_unsealed_once_per_runtime(
    rt: Runtime, tenant_and_secret: tuple[Tenant, str]
) -> None:
    tenant = tenant_and_secret[0]
    first = _signer(rt, tenant)
    assert _signer(rt, tenant) is first
    kept = rt.cache("signing-keys")
    assert (kept.ttl, kept.max_entries) == (600.0, 256)
    # Another runtime on the same database and key unseals its own copy.
    other = Runtime(engine=rt.engine, clock=rt.clock, master_key=rt.master_key)
    again = _signer(other, tenant)
    assert again is not first
    assert again.kid == first.kid
    assert again.as_dict(private=True) == first.as_dict(private=True)


def test_a_runtime_with_another_master_key_never_sees_a_kept_key(
    rt: Runtime, tenant_and_secret: tuple[Tenant, str]
) -> None:
    tenant = tenant_and_secret[0]
    _signer(rt, tenant)
    stranger = Runtime(engine=rt.engine, clock=rt.clock, master_key=b"\x00" * 32)
    with pytest.raises(ConfigError, match="master key"):
        _signer(stranger, tenant)


def test_a_rotation_signs_with_the_new_key_at_once(
    rt: Runtime, tenant_and_secret: tuple[Tenant, str]
) -> None:
    tenant = tenant_and_secret[0]
    old = _signer(rt, tenant)
    new_kid = signing_keys.rotate(rt, tenant.id)
    assert new_kid != old.kid
    assert _signer(rt, tenant).kid == new_kid


def test_clear_caches_forgets_the_unsealed_keys(
    rt: Runtime, tenant_and_secret: tuple[Tenant, str]
) -> None:
    tenant = tenant_and_secret[0]
    first = _signer(rt, tenant)
    rt.clear_caches()
    assert _signer(rt, tenant) is not first
