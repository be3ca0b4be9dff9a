"""services/amr.py: the one place a sign-in's `amr` values are derived."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from latchkey.models import Credential
from latchkey.services import amr

_PASSKEY = Credential(
    id="c1",
    tenant_id="t1",
    user_id="u1",
    credential_id=b"\x01",
    public_key=b"\x02",
    alg=-7,
    sign_count=0,
    aaguid="00000000-0000-0000-0000-000000000000",
    fmt="none",
    transports=(),
    backup_eligible=True,
    backup_state=True,
    user_verified=True,
    discoverable=True,
    attachment=None,
    name="",
    possible_clone=False,
    created_at=datetime(2026, 1, 1, tzinfo=UTC),
    last_used_at=None,
)


def test_a_synced_passkey_is_a_software_protected_key() -> None:
    assert amr.of_passkey(_PASSKEY) == ["webauthn", "swk"]


def test_a_device_bound_passkey_is_a_hardware_protected_key() -> None:
    bound = replace(_PASSKEY, backup_eligible=False, backup_state=False)
    assert amr.of_passkey(bound) == ["webauthn", "hwk"]


def test_backup_state_alone_does_not_decide() -> None:
    # Eligibility is fixed at registration; the state (backed up yet or not) may change.
    assert amr.of_passkey(replace(_PASSKEY, backup_state=False)) == ["webauthn", "swk"]


def test_a_password_sign_in() -> None:
    assert amr.of_password() == ["pwd"]


def test_each_call_returns_its_own_list() -> None:
    first = amr.of_password()
    first.append("otp")
    assert amr.of_password() == ["pwd"]
