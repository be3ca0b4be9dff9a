"""Sealed sign-in challenge ids (services/sealed_challenges.py), on SQLite and PostgreSQL:
options write nothing; the id opens only for its tenant and kind, unchanged and unexpired; the
user it was issued for is the only one it signs in; a use is recorded once, and a second use is
a replay; used ids go by a range delete once expired."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from litestar.testing import TestClient
from sqlalchemy import func, select

from latchkey.errors import ChallengeExpired, ChallengeNotFound, LatchkeyError
from latchkey.models import Tenant
from latchkey.runtime import RequestMeta, Runtime
from latchkey.services import (
    challenges,
    pruning,
    sealed_challenges,
    tenant_passkeys,
    tenants,
    web,
)
from latchkey.store.tables import challenges as challenge_table
from latchkey.store.tables import credentials, events, used_challenges
from latchkey.testing.authenticator import SoftAuthenticator
from tests.support.clock import FakeClock
from tests.web_parties import ORIGIN, Backend, Browser

OPTIONS = "user-authenticators/passkey/authentication-options"


def _count(rt: Runtime, table: Any, *where: Any) -> int:
    with rt.read() as conn:
        query = select(func.count()).select_from(table)
        return int(conn.execute(query.where(*where) if where else query).scalar_one())


def _enrolled(backend: Backend, browser: Browser, user: str) -> None:
    signup = backend.track(user, "signup")
    assert browser.sign_up(signup["token"]).status_code == 200


def _error(answer: Any, status: int, code: str) -> None:
    assert answer.status_code == status, answer.text
    assert answer.json()["errorCode"] == code


def _begun(browser: Browser, token: str | None = None) -> tuple[str, dict[str, Any]]:
    begun = browser.post(OPTIONS, {}, token)
    assert begun.status_code == 200, begun.text
    return begun.json()["challengeId"], begun.json()["options"]


def _verify(
    browser: Browser, challenge_id: str, assertion: dict[str, Any], token: str | None = None
) -> Any:
    body = {"authenticationCredential": assertion, "challengeId": challenge_id}
    return browser.post("verify/passkey", body, token)


def test_options_write_nothing_and_verify_uses_the_id_once(
    rt: Runtime, backend: Backend, browser: Browser
) -> None:
    _enrolled(backend, browser, "once")
    stored = _count(rt, challenge_table)
    challenge_id, options = _begun(browser)
    assert challenge_id.startswith(sealed_challenges.PREFIX)
    assert _count(rt, challenge_table) == stored
    assert _count(rt, used_challenges) == 0
    assertion = browser.authenticator.get(options, origin=ORIGIN)
    assert _verify(browser, challenge_id, assertion).status_code == 200
    assert _count(rt, used_challenges) == 1
    _error(_verify(browser, challenge_id, assertion), 400, "challenge_used")
    assert _count(rt, used_challenges) == 1


def _flip(challenge_id: str, at: int) -> str:
    swapped = "A" if challenge_id[at] != "A" else "B"
    return challenge_id[:at] + swapped + challenge_id[at + 1 :]


@pytest.mark.parametrize("at", [3, 4, 20, -30, -1])
def test_a_tampered_id_is_unknown_and_uses_nothing(
    rt: Runtime, backend: Backend, browser: Browser, at: int
) -> None:
    _enrolled(backend, browser, "tamper")
    challenge_id, options = _begun(browser)
    assertion = browser.authenticator.get(options, origin=ORIGIN)
    _error(_verify(browser, _flip(challenge_id, at), assertion), 404, "challenge_not_found")
    _error(_verify(browser, challenge_id + "A", assertion), 404, "challenge_not_found")
    _error(_verify(browser, "c1.", assertion), 404, "challenge_not_found")
    assert _count(rt, used_challenges) == 0
    # The genuine id still works once.
    assert _verify(browser, challenge_id, assertion).status_code == 200


def test_an_expired_id_is_refused(
    rt: Runtime, clock: FakeClock, backend: Backend, browser: Browser, tenant_and_secret: Any
) -> None:
    _enrolled(backend, browser, "late")
    challenge_id, options = _begun(browser)
    assertion = browser.authenticator.get(options, origin=ORIGIN)
    clock.advance(milliseconds=tenant_and_secret[0].policy.timeout_ms + 1)
    _error(_verify(browser, challenge_id, assertion), 400, "challenge_expired")
    assert _count(rt, used_challenges) == 0
    failures = _count(rt, events, events.c.reason == "challenge_expired")
    assert failures == 1


def test_another_tenants_id_does_not_open(
    rt: Runtime, client: TestClient, backend: Backend, browser: Browser
) -> None:
    _enrolled(backend, browser, "home")
    other, other_secret = tenants.create(rt, rp_id="localhost", rp_name="Other", origins=[ORIGIN])
    other_browser = Browser(client, other.id, authenticator=browser.authenticator)
    _enrolled(Backend(client, other_secret), other_browser, "home")
    challenge_id, options = _begun(browser)
    assertion = other_browser.authenticator.get(options, origin=ORIGIN)
    _error(_verify(other_browser, challenge_id, assertion), 404, "challenge_not_found")
    with pytest.raises(ChallengeNotFound):
        sealed_challenges.open_sealed(
            rt, scope=other.id, challenge_id=challenge_id, kind=challenges.AUTHENTICATION
        )


def test_an_id_of_another_kind_does_not_open(
    rt: Runtime, backend: Backend, browser: Browser, tenant_and_secret: tuple[Tenant, str]
) -> None:
    tenant = tenant_and_secret[0]
    challenge_id, _options = _begun(browser)
    with pytest.raises(ChallengeNotFound):
        sealed_challenges.open_sealed(
            rt, scope=tenant.id, challenge_id=challenge_id, kind=challenges.REGISTRATION
        )
    # Nor as a registration's challenge over the wire.
    signup = backend.track("kind", "signup")
    begun = browser.post("user-authenticators/passkey/registration-options", {}, signup["token"])
    created = browser.authenticator.create(begun.json()["options"], origin=ORIGIN)
    body = {"registrationCredential": created, "challengeId": challenge_id}
    answer = browser.post("user-authenticators/passkey", body, signup["token"])
    _error(answer, 404, "challenge_not_found")


def test_an_id_issued_for_one_user_signs_in_no_other(
    rt: Runtime, client: TestClient, backend: Backend, browser: Browser, tenant_and_secret: Any
) -> None:
    _enrolled(backend, browser, "alice")
    mallory = Browser(client, tenant_and_secret[0].id)
    _enrolled(backend, mallory, "mallory")
    token = backend.track("alice", "signIn")["token"]
    challenge_id, options = _begun(browser, token)
    # Mallory's passkey answers the challenge issued for Alice.
    options = {**options, "allowCredentials": []}
    assertion = mallory.authenticator.get(options, origin=ORIGIN)
    _error(_verify(mallory, challenge_id, assertion, token), 400, "credential_not_allowed")
    # Without the token too: the user is bound inside the id, not by the token alone.
    challenge_id, options = _begun(browser, token)
    assertion = mallory.authenticator.get({**options, "allowCredentials": []}, origin=ORIGIN)
    _error(_verify(mallory, challenge_id, assertion), 400, "credential_not_allowed")


def test_a_pending_challenge_from_the_challenge_call_gives_options_until_used(
    backend: Backend, browser: Browser
) -> None:
    _enrolled(backend, browser, "pending")
    verified = browser.sign_in(action="login")
    assert verified.status_code == 200, verified.text
    checked = backend.validate(verified.json()["accessToken"])
    assert checked["isValid"] is True
    assert checked["action"] == "login"
    pending = browser.post("challenge", {"action": "login"}).json()["challengeId"]
    begun = browser.post(OPTIONS, {"challengeId": pending})
    assertion = browser.authenticator.get(begun.json()["options"], origin=ORIGIN)
    assert _verify(browser, pending, assertion).status_code == 200
    _error(browser.post(OPTIONS, {"challengeId": pending}), 404, "challenge_not_found")


def test_a_sign_count_race_between_two_assertions_has_one_winner(
    rt: Runtime, backend: Backend, browser: Browser, tenant_and_secret: tuple[Tenant, str]
) -> None:
    """Two assertions of one passkey carrying the same new count, verified at once: one moves
    the count, the other is refused as a possible clone (§7.2 step 22), in any group."""
    tenant = tenant_and_secret[0]
    browser.authenticator = SoftAuthenticator(counter_step=0)
    _enrolled(backend, browser, "counted")
    bodies = []
    for _ in range(2):
        begun = tenant_passkeys.sign_in_options(rt, tenant, context={"action": "race"})
        made = browser.authenticator.get(begun.options, origin=ORIGIN, sign_count=7)
        bodies.append((begun.challenge_id, made))
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def sign_in(challenge_id: str, made: dict[str, Any]) -> None:
        barrier.wait()
        try:
            web.sign_in(
                rt,
                tenant,
                token_action=None,
                challenge_id=challenge_id,
                credential=made,
                meta=RequestMeta(),
            )
            outcomes.append("ok")
        except LatchkeyError as error:
            outcomes.append(error.code)

    threads = [threading.Thread(target=sign_in, args=body) for body in bodies]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["ok", "sign_count_regression"]
    with rt.read() as conn:
        row = conn.execute(select(credentials.c.sign_count, credentials.c.possible_clone)).one()
    assert row.sign_count == 7
    assert row.possible_clone is True
    assert _count(rt, used_challenges) == 2


def test_expired_used_ids_are_pruned_by_key_range(
    rt: Runtime, clock: FakeClock, backend: Backend, browser: Browser, tenant_and_secret: Any
) -> None:
    _enrolled(backend, browser, "prune")
    assert browser.sign_in().status_code == 200
    clock.advance(minutes=1)
    assert browser.sign_in().status_code == 200
    assert _count(rt, used_challenges) == 2
    assert pruning.prune_expired(rt)["used_challenges"] == 0
    # Now the first id expired a day and 30 s ago (pruned), the second a day less 30 s (kept).
    timeout = tenant_and_secret[0].policy.timeout_ms
    clock.advance(milliseconds=timeout, days=1, seconds=-30)
    assert pruning.prune_expired(rt)["used_challenges"] == 1
    assert _count(rt, used_challenges) == 1


def test_an_expired_challenge_is_told_apart_from_an_unknown_one(
    rt: Runtime, clock: FakeClock, tenant_and_secret: tuple[Tenant, str]
) -> None:
    tenant = tenant_and_secret[0]
    issued = sealed_challenges.issue(
        rt,
        scope=tenant.id,
        timeout_ms=tenant.policy.timeout_ms,
        kind=challenges.AUTHENTICATION,
        user_id=None,
        context={},
    )
    opened = sealed_challenges.open_sealed(
        rt, scope=tenant.id, challenge_id=issued.id, kind=challenges.AUTHENTICATION
    )
    assert opened.challenge == issued.challenge
    assert opened.context == {}
    clock.advance(milliseconds=tenant.policy.timeout_ms)
    with pytest.raises(ChallengeExpired):
        sealed_challenges.open_sealed(
            rt, scope=tenant.id, challenge_id=issued.id, kind=challenges.AUTHENTICATION
        )


def test_the_cipher_is_kept_on_the_runtime_not_the_process(
    rt: Runtime, tenant_and_secret: tuple[Tenant, str]
) -> None:
    tenant = tenant_and_secret[0]
    issued = sealed_challenges.issue(
        rt,
        scope=tenant.id,
        timeout_ms=tenant.policy.timeout_ms,
        kind="authentication",
        user_id=None,
        context={},
    )
    kept = rt.cache("challenge-ciphers")
    assert kept.max_entries == 4
    opened = sealed_challenges.open_sealed(
        rt, scope=tenant.id, challenge_id=issued.id, kind="authentication"
    )
    assert opened.challenge == issued.challenge
    # A runtime with another master key derives its own cipher: the id does not open there.
    stranger = Runtime(engine=rt.engine, clock=rt.clock, master_key=b"\x01" * 32)
    with pytest.raises(ChallengeNotFound, match="unknown authentication challenge"):
        sealed_challenges.open_sealed(
            stranger, scope=tenant.id, challenge_id=issued.id, kind="authentication"
        )
