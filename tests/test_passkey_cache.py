"""Sign-in verifies against a cached passkey (services/tenant_passkeys.py `find`); whatever may
have changed since it was cached is decided by the sign-in's write, against the database. Each
change below is made with SQL, as another process or node would make it (nothing evicts the
cache here): a deleted passkey, a disabled or renamed holder, a counter that moved on."""

from __future__ import annotations

from dataclasses import FrozenInstanceError, replace
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import delete, func, select, update

from latchkey.models import Credential, Tenant
from latchkey.runtime import Runtime
from latchkey.services import tenant_passkeys
from latchkey.store.tables import credentials, events, tokens, users
from latchkey.testing.authenticator import SoftAuthenticator
from tests.web_parties import Backend, Browser


@pytest.fixture
def enrolled(backend: Backend, browser: Browser) -> Browser:
    tracked = backend.track("alice", "add-passkey", username="alice@example.com")
    assert browser.sign_up(tracked["token"]).status_code == 200
    answer = browser.sign_in()  # the passkey is in the cache from here on
    assert answer.status_code == 200, answer.text
    return browser


def _cached(rt: Runtime) -> int:
    return len(rt.cache(tenant_passkeys.PASSKEY_CACHE)._entries)


def _counts(rt: Runtime) -> tuple[int, int]:
    with rt.read() as conn:
        issued = conn.execute(select(func.count()).select_from(tokens)).scalar_one()
        logged = conn.execute(select(func.count()).select_from(events)).scalar_one()
    return issued, logged


def _failed_sign_ins(rt: Runtime) -> list[Any]:
    with rt.read() as conn:
        return list(
            conn.execute(
                select(events.c.reason, events.c.user_id, events.c.credential_id).where(
                    events.c.kind == "passkey.authentication", events.c.outcome == "failure"
                )
            )
        )


def test_a_passkey_deleted_after_it_was_cached_is_refused(rt: Runtime, enrolled: Browser) -> None:
    assert _cached(rt) == 1
    with rt.transaction() as conn:
        conn.execute(delete(credentials))
    issued, _ = _counts(rt)
    refused = enrolled.sign_in()
    assert refused.status_code == 404
    assert refused.json()["errorCode"] == "credential_not_found"
    assert _counts(rt)[0] == issued  # no result token
    assert [tuple(e) for e in _failed_sign_ins(rt)] == [("credential_not_found", None, None)]
    assert _cached(rt) == 0  # read again next time


def test_a_holder_disabled_after_the_passkey_was_cached_is_refused(
    rt: Runtime, enrolled: Browser
) -> None:
    with rt.read() as conn:
        count_before, used_before = conn.execute(
            select(credentials.c.sign_count, credentials.c.last_used_at)
        ).one()
    with rt.transaction() as conn:
        conn.execute(update(users).values(disabled_at=rt.now()))
    issued, _ = _counts(rt)
    refused = enrolled.sign_in()
    assert refused.status_code == 403
    assert refused.json()["errorCode"] == "user_disabled"
    assert _counts(rt)[0] == issued
    [(reason, user_id, credential_id)] = _failed_sign_ins(rt)
    assert reason == "user_disabled"
    assert user_id is not None
    assert credential_id is not None
    with rt.read() as conn:  # the use was undone with the refusal
        assert conn.execute(select(credentials.c.sign_count, credentials.c.last_used_at)).one() == (
            count_before,
            used_before,
        )
    with rt.transaction() as conn:
        conn.execute(update(users).values(disabled_at=None))
    assert enrolled.sign_in().status_code == 200


def test_the_answer_names_the_holder_as_stored_now(rt: Runtime, enrolled: Browser) -> None:
    with rt.transaction() as conn:
        conn.execute(update(users).values(username="alice@new.example", display_name="Alice N"))
    answer = enrolled.sign_in().json()
    assert (answer["username"], answer["userDisplayName"]) == ("alice@new.example", "Alice N")


def test_a_counting_authenticator_signs_in_again_and_again(
    rt: Runtime, backend: Backend, tenant_and_secret: tuple[Tenant, str], browser: Browser
) -> None:
    assert browser.authenticator.counter_step == 1
    tracked = backend.track("bob", "add-passkey")
    assert browser.sign_up(tracked["token"]).status_code == 200
    for _ in range(4):  # the cached passkey keeps its first count; the database's rises
        assert browser.sign_in().status_code == 200
    with rt.read() as conn:
        assert conn.execute(select(credentials.c.sign_count)).scalar_one() == 4


def test_a_replayed_count_is_refused_and_flagged_though_the_cache_is_older(
    rt: Runtime, enrolled: Browser
) -> None:
    authenticator: SoftAuthenticator = enrolled.authenticator
    (credential,) = authenticator.credentials.values()
    stored = credential.sign_count
    assert enrolled.sign_in().status_code == 200
    credential.sign_count = stored  # a clone, one use behind
    refused = enrolled.sign_in()
    assert refused.status_code == 400
    assert refused.json()["errorCode"] == "sign_count_regression"
    with rt.read() as conn:
        assert conn.execute(select(credentials.c.possible_clone)).scalar_one() is True


def test_the_used_passkey_is_the_cached_one_with_its_use(rt: Runtime, enrolled: Browser) -> None:
    # `_used` copies a Credential without its __init__: only right while it has none of its own
    # work to do (no __post_init__) and keeps its fields in its __dict__ (no slots).
    assert not hasattr(Credential, "__post_init__")
    assert not hasattr(Credential, "__slots__")
    [(_expiry, (cached, _holder))] = rt.cache(tenant_passkeys.PASSKEY_CACHE)._entries.values()
    count, at = cached.sign_count, datetime.now(UTC)
    used = tenant_passkeys._used(cached, count + 1, not cached.backup_state, at)
    assert used == replace(
        cached, sign_count=count + 1, backup_state=not cached.backup_state, last_used_at=at
    )
    assert type(used) is Credential
    assert cached.sign_count == count  # the cached one is left as it was
    with pytest.raises(FrozenInstanceError):
        used.sign_count = 5  # type: ignore[misc]
