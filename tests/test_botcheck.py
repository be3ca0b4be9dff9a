"""The ALTCHA bot check: challenges, single-use verification, the store, the shipped widget.

Every test with `rt` runs on SQLite and, when LATCHKEY_TEST_POSTGRES_URL is set, PostgreSQL.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import threading
import time
from datetime import UTC, datetime, timedelta
from importlib.resources import files
from typing import Any

import pytest
from altcha import ChallengeOptionsV1, create_challenge_v1
from sqlalchemy import func, select

from latchkey.errors import ConfigError, InvalidRequest
from latchkey.runtime import Runtime
from latchkey.services import pruning
from latchkey.services.pools import botcheck
from latchkey.store import botcheck as spent_store
from latchkey.store.tables import botcheck_spent
from latchkey.testing.botcheck import solve
from tests.support.clock import FakeClock

# Small, so brute force takes milliseconds; the real difficulty is botcheck.MAX_NUMBER.
EASY = 2_000
TENANT_A = "tenant-a"
TENANT_B = "tenant-b"

# Posted by the shipped widget (altcha 3.2.2 in Chromium 156) for a challenge issued by
# botcheck.challenge(rt, "tenant-1") with master key bytes(range(32)); it expires at 1795409583.
RECORDED_WIDGET_PAYLOAD = (
    "eyJhbGdvcml0aG0iOiJTSEEtMjU2IiwiY2hhbGxlbmdlIjoiYTI2ZjNjZjc4NjAzNTE5M2RjNDc1OWY5N2E1Zj"
    "U5YzY2MmNhYmNlNzNkYTQzMWQyYjk0ZGE4YTU2ZjZjNzliMCIsIm51bWJlciI6MzQ4LCJzYWx0IjoiMWU3NTdj"
    "NjkwNDIwOGJiNTlmZjA2MTRmP2V4cGlyZXM9MTc5NTQwOTU4MyYiLCJzaWduYXR1cmUiOiI3OTdkN2NmMzZiMD"
    "ZmMmJhNjA3NTVhMzM2ODQ3M2Q5NTVhZDEwY2Q3MTA0NTNiZjFhNzY0Y2ZhOGM5MzUzMTdiIiwidG9vayI6MjEu"
    "NX0="
)
RECORDED_EXPIRES = 1795409583


def _solved(rt: Runtime, tenant_id: str = TENANT_A, **options: Any) -> str:
    return solve(botcheck.challenge(rt, tenant_id, max_number=EASY, **options))


def _verify(rt: Runtime, tenant_id: str, payload: str | None) -> None:
    with rt.transaction() as conn:
        botcheck.verify(conn, rt, tenant_id, payload)


def _fails(rt: Runtime, tenant_id: str, payload: str | None, code: str) -> None:
    with pytest.raises(botcheck.BotCheckFailed) as caught:
        _verify(rt, tenant_id, payload)
    assert caught.value.code == code
    assert isinstance(caught.value, InvalidRequest)
    assert caught.value.status == 400


def _decoded(payload: str) -> dict[str, Any]:
    found: dict[str, Any] = json.loads(base64.b64decode(payload))
    return found


def _encoded(fields: dict[str, Any]) -> str:
    return base64.b64encode(json.dumps(fields).encode()).decode()


def _spent_rows(rt: Runtime) -> int:
    with rt.read() as conn:
        return int(conn.execute(select(func.count()).select_from(botcheck_spent)).scalar_one())


# Challenges


def test_challenge_is_what_the_widget_fetches(rt: Runtime, clock: FakeClock) -> None:
    made = botcheck.challenge(rt, TENANT_A)
    assert set(made) == {"algorithm", "challenge", "maxnumber", "salt", "signature"}
    assert made["algorithm"] == "SHA-256"
    assert made["maxnumber"] == botcheck.MAX_NUMBER
    assert re.fullmatch(r"[0-9a-f]{64}", made["challenge"])
    assert re.fullmatch(r"[0-9a-f]{64}", made["signature"])
    found = re.fullmatch(r"[0-9a-f]+\?expires=(\d+)&", made["salt"])
    assert found is not None
    expected = (clock.now + botcheck.LIFETIME).timestamp()
    assert abs(int(found.group(1)) - expected) <= 1
    json.dumps(made)  # the wire shape is plain JSON


def test_challenges_need_the_master_key(rt: Runtime) -> None:
    keyless = Runtime(engine=rt.engine, master_key=None)
    with pytest.raises(ConfigError):
        botcheck.challenge(keyless, TENANT_A)


# Verification


def test_a_solution_verifies_once(rt: Runtime) -> None:
    payload = _solved(rt)
    _verify(rt, TENANT_A, payload)
    assert _spent_rows(rt) == 1
    _fails(rt, TENANT_A, payload, "bot_check_replayed")
    assert _spent_rows(rt) == 1


def test_the_real_widgets_payload_verifies(rt: Runtime) -> None:
    recorded = Runtime(engine=rt.engine, master_key=bytes(range(32)))
    before_expiry = datetime.fromtimestamp(RECORDED_EXPIRES - 60, UTC)
    with recorded.transaction() as conn:
        botcheck.verify(conn, recorded, "tenant-1", RECORDED_WIDGET_PAYLOAD, now=before_expiry)
    with pytest.raises(botcheck.BotCheckReplayed), recorded.transaction() as conn:
        botcheck.verify(conn, recorded, "tenant-1", RECORDED_WIDGET_PAYLOAD, now=before_expiry)


@pytest.mark.parametrize("payload", [None, ""])
def test_a_missing_solution_is_required(rt: Runtime, payload: str | None) -> None:
    _fails(rt, TENANT_A, payload, "bot_check_required")


@pytest.mark.parametrize(
    "payload",
    [
        "not base64 at all!",
        "eyJh",  # base64 of a truncated JSON object
        base64.b64encode(b"\xff\xfe\x00").decode(),  # not UTF-8
        base64.b64encode(b"not json").decode(),
        base64.b64encode(b"[1, 2, 3]").decode(),
        base64.b64encode(b"{}").decode(),
        base64.b64encode(b'{"algorithm": "SHA-256"}').decode(),
        "QUJD" * 2000,  # far longer than any widget payload
    ],
)
def test_garbage_is_refused(rt: Runtime, payload: str) -> None:
    _fails(rt, TENANT_A, payload, "bot_check_failed")
    assert _spent_rows(rt) == 0


@pytest.mark.parametrize(
    "change",
    [
        {"number": "wrong"},  # replaced by the solution's number + 1 below
        {"number": None},
        {"number": True},
        {"number": -1},
        {"algorithm": "SHA-1"},
        {"salt": 12},
        {"signature": "0" * 64},
        {"signature": "\u00e9" * 64},
        {"challenge": "0" * 64},
        {"challenge": "\u00e9" * 64},
    ],
)
def test_a_tampered_solution_is_refused(rt: Runtime, change: dict[str, Any]) -> None:
    fields = _decoded(_solved(rt))
    if change == {"number": "wrong"}:
        change = {"number": fields["number"] + 1}
    _fails(rt, TENANT_A, _encoded({**fields, **change}), "bot_check_failed")
    assert _spent_rows(rt) == 0


def test_the_number_as_a_string_is_refused(rt: Runtime) -> None:
    fields = _decoded(_solved(rt))
    _fails(rt, TENANT_A, _encoded({**fields, "number": str(fields["number"])}), "bot_check_failed")


def test_a_later_expiry_breaks_the_signature(rt: Runtime) -> None:
    fields = _decoded(_solved(rt))
    later = str(int(time.time()) + 86_400)
    salt = re.sub(r"expires=\d+", f"expires={later}", fields["salt"])
    _fails(rt, TENANT_A, _encoded({**fields, "salt": salt}), "bot_check_failed")


def test_a_solution_signed_with_another_key_is_forged(rt: Runtime) -> None:
    expires = rt.now() + timedelta(minutes=5)
    forged = create_challenge_v1(
        ChallengeOptionsV1(max_number=EASY, hmac_key=secrets.token_bytes(32), expires=expires)
    )
    challenge = {**forged.to_dict(), "maxnumber": forged.max_number}
    _fails(rt, TENANT_A, solve(challenge), "bot_check_failed")


def test_another_tenants_solution_is_refused(rt: Runtime) -> None:
    payload = _solved(rt, TENANT_A)
    _fails(rt, TENANT_B, payload, "bot_check_failed")
    _verify(rt, TENANT_A, payload)  # refused for B, so still unspent for A


def test_an_expired_solution_is_refused(rt: Runtime, clock: FakeClock) -> None:
    payload = _solved(rt)
    clock.advance(seconds=botcheck.LIFETIME.total_seconds() + 1)
    _fails(rt, TENANT_A, payload, "bot_check_expired")
    assert _spent_rows(rt) == 0


def test_a_solution_verifies_until_it_expires(rt: Runtime, clock: FakeClock) -> None:
    payload = _solved(rt)
    clock.advance(seconds=botcheck.LIFETIME.total_seconds() - 5)
    _verify(rt, TENANT_A, payload)


def test_a_challenge_issued_in_the_past_is_expired(rt: Runtime, clock: FakeClock) -> None:
    payload = _solved(rt, now=clock.now - botcheck.LIFETIME - timedelta(seconds=1))
    _fails(rt, TENANT_A, payload, "bot_check_expired")


def test_a_spend_rolls_back_with_its_transaction(rt: Runtime) -> None:
    payload = _solved(rt)

    def failed_sign_up() -> None:
        with rt.transaction() as conn:
            botcheck.verify(conn, rt, TENANT_A, payload)
            raise RuntimeError("the sign-up it protected failed")

    with pytest.raises(RuntimeError):
        failed_sign_up()
    assert _spent_rows(rt) == 0
    _verify(rt, TENANT_A, payload)
    _fails(rt, TENANT_A, payload, "bot_check_replayed")


def test_a_refused_replay_leaves_the_transaction_usable(rt: Runtime) -> None:
    """The failed INSERT is inside a SAVEPOINT: on PostgreSQL the caller's transaction would
    otherwise be aborted and refuse its next statement."""
    payload = _solved(rt)
    _verify(rt, TENANT_A, payload)
    with rt.transaction() as conn:
        with pytest.raises(botcheck.BotCheckReplayed):
            botcheck.verify(conn, rt, TENANT_A, payload)
        assert conn.execute(select(func.count()).select_from(botcheck_spent)).scalar_one() == 1


def test_concurrent_spends_have_one_winner(rt: Runtime) -> None:
    payload = _solved(rt)
    spenders = 6
    start = threading.Barrier(spenders)
    outcomes: list[str] = []

    def spend() -> None:
        start.wait()
        try:
            with rt.transaction() as conn:
                botcheck.verify(conn, rt, TENANT_A, payload)
                time.sleep(0.05)  # hold the row, so the others meet an uncommitted insert
            outcomes.append("ok")
        except botcheck.BotCheckFailed as exc:
            outcomes.append(exc.code)

    threads = [threading.Thread(target=spend) for _ in range(spenders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == ["bot_check_replayed"] * (spenders - 1) + ["ok"]
    assert _spent_rows(rt) == 1


# The store


def test_store_spend_is_single_use(rt: Runtime) -> None:
    digest = secrets.token_bytes(32)
    later = rt.now() + timedelta(minutes=10)
    with rt.transaction() as conn:
        assert spent_store.spend(conn, digest, later) is True
        assert spent_store.spend(conn, digest, later) is False
        assert spent_store.spend(conn, secrets.token_bytes(32), later) is True


def test_pruning_forgets_expired_spends(rt: Runtime, clock: FakeClock) -> None:
    with rt.transaction() as conn:
        spent_store.spend(conn, b"\x01" * 32, clock.now - timedelta(seconds=1))
        spent_store.spend(conn, b"\x02" * 32, clock.now + timedelta(seconds=1))
    assert pruning.prune_expired(rt)["botcheck_spent"] == 1
    assert pruning.prune_expired(rt)["botcheck_spent"] == 0
    assert _spent_rows(rt) == 1


def test_a_spend_outlives_its_solutions_expiry(rt: Runtime, clock: FakeClock) -> None:
    """Pruning at expiry must not reopen a replay on a node whose clock runs a little behind."""
    payload = _solved(rt)
    _verify(rt, TENANT_A, payload)
    # A node whose clock runs past the solution's expiry prunes the shared table.
    ahead = clock.now + botcheck.LIFETIME + timedelta(seconds=1)
    assert (
        pruning.prune_expired(Runtime(engine=rt.engine, clock=lambda: ahead))["botcheck_spent"] == 0
    )
    _fails(rt, TENANT_A, payload, "bot_check_replayed")


# The test helper and the shipped widget


def test_solve_builds_the_widgets_payload(rt: Runtime) -> None:
    made = botcheck.challenge(rt, TENANT_A, max_number=EASY)
    fields = _decoded(solve(json.dumps(made)))
    assert set(fields) == {"algorithm", "challenge", "number", "salt", "signature", "took"}
    assert 0 <= fields["number"] <= EASY
    assert {name: fields[name] for name in ("algorithm", "challenge", "salt", "signature")} == {
        name: made[name] for name in ("algorithm", "challenge", "salt", "signature")
    }


def test_the_widget_is_shipped_with_the_package() -> None:
    vendor = files("latchkey") / "static" / "vendor" / "altcha"
    widget = (vendor / "altcha.min.js").read_text(encoding="utf-8")
    assert len(widget) > 50_000
    assert 'customElements.define("altcha-widget"' in widget
    # The CSP build: no inline <style>, no blob: workers (see README.txt).
    assert 'createElement("style")' not in widget
    assert "createObjectURL" not in widget
    assert "crypto.subtle.digest" in (vendor / "workers" / "sha.js").read_text(encoding="utf-8")
    assert ".altcha" in (vendor / "altcha.css").read_text(encoding="utf-8")
    assert "MIT License" in (vendor / "LICENSE.txt").read_text(encoding="utf-8")
    assert "3.2.2" in (vendor / "README.txt").read_text(encoding="utf-8")
    glue = (vendor / "latchkey-altcha.js").read_text(encoding="utf-8")
    for imported in re.findall(r"\"\./([\w/.-]+)\"", glue):
        assert (vendor / imported).is_file(), imported
