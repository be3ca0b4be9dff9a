"""Action tokens follow their action (issue 21 item 3): a token starts a challenge only while
its action waits for one, a backend's BLOCK is never overwritten by a later success, and an
anonymous sign-in never passes for a tracked step-up. Each attack fails and the owner's
journey still works; SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import httpx
from litestar.testing import TestClient
from sqlalchemy import func, select

from latchkey.models import Tenant
from latchkey.runtime import Runtime
from latchkey.services import action_names
from latchkey.store.tables import actions, tokens
from tests.ceremony_client import row_counts
from tests.support.admin import admin_events, make_world
from tests.web_parties import Backend, Browser

OPTIONS = "user-authenticators/passkey/authentication-options"


def _enrol(backend: Backend, browser: Browser, user_id: str) -> dict[str, Any]:
    tracked = backend.track(user_id, "add-passkey", username=f"{user_id}@example.com")
    signed_up = browser.sign_up(tracked["token"])
    assert signed_up.status_code == 200, signed_up.text
    return dict(signed_up.json())


def _set_state(backend: Backend, user_id: str, tracked: dict[str, Any], state: str) -> Any:
    path = f"/v1/users/{user_id}/actions/{tracked['action']}/{tracked['idempotencyKey']}"
    return backend.http.patch(path, json={"state": state}, headers=backend.auth)


def _track(backend: Backend, user_id: str, action: str, **body: Any) -> dict[str, Any]:
    return {**backend.track(user_id, action, **body), "action": action}


def _refused(answer: httpx.Response, status: int, code: str) -> None:
    assert answer.status_code == status, answer.text
    assert answer.json()["errorCode"] == code


def _begin(browser: Browser, token: str | None, challenge_id: str | None = None) -> Any:
    begun = browser.post(OPTIONS, {"challengeId": challenge_id}, token)
    assert begun.status_code == 200, begun.text
    return begun.json()


def _verify(browser: Browser, begun: dict[str, Any], token: str | None) -> httpx.Response:
    assertion = browser.authenticator.get(begun["options"], origin=browser.origin)
    body = {"authenticationCredential": assertion, "challengeId": begun["challengeId"]}
    answer: httpx.Response = browser.post("verify/passkey", body, token)
    return answer


def test_a_blocked_action_token_starts_no_challenge(
    backend: Backend, browser: Browser, rt: Runtime
) -> None:
    tracked = _track(backend, "b-1", "add-passkey")
    assert _set_state(backend, "b-1", tracked, "BLOCK").json()["state"] == "BLOCK"
    before = row_counts(rt.engine)
    _refused(browser.sign_up(tracked["token"]), 403, "action_closed")
    assert row_counts(rt.engine) == before
    # The owner's journey: a new track gives a token that works.
    _enrol(backend, browser, "b-1")

    step_up = _track(backend, "b-1", "withdraw")
    _set_state(backend, "b-1", step_up, "ALLOW")
    _refused(browser.post(OPTIONS, {}, step_up["token"]), 403, "action_closed")
    listed = browser.http.get(
        "/v1/client/user-authenticators", headers=browser.headers(step_up["token"])
    )
    _refused(listed, 403, "action_closed")


def test_block_while_the_challenge_is_pending_is_never_overwritten(
    backend: Backend, browser: Browser
) -> None:
    _enrol(backend, browser, "b-2")
    tracked = _track(backend, "b-2", "withdraw")
    begun = _begin(browser, tracked["token"])
    _set_state(backend, "b-2", tracked, "BLOCK")
    _refused(_verify(browser, begun, tracked["token"]), 403, "action_closed")
    path = f"/v1/users/b-2/actions/withdraw/{tracked['idempotencyKey']}"
    found = backend.http.get(path, headers=backend.auth).json()
    assert (found["state"], found["verificationMethod"]) == ("BLOCK", None)

    again = _track(backend, "b-2", "withdraw")
    done = _verify(browser, _begin(browser, again["token"]), again["token"])
    assert done.status_code == 200, done.text
    assert backend.validate(done.json()["accessToken"], userId="b-2")["isValid"] is True


def test_a_block_after_the_success_makes_the_result_not_valid(
    backend: Backend, browser: Browser
) -> None:
    _enrol(backend, browser, "b-3")
    tracked = _track(backend, "b-3", "withdraw")
    done = _verify(browser, _begin(browser, tracked["token"]), tracked["token"])
    assert done.status_code == 200, done.text
    _set_state(backend, "b-3", tracked, "BLOCK")
    result = backend.validate(done.json()["accessToken"])
    assert (result["isValid"], result["state"], result["userId"]) == (False, "BLOCK", "b-3")
    assert result["isAnonymous"] is False


def test_a_token_that_completed_its_challenge_cannot_start_another(
    backend: Backend, browser: Browser
) -> None:
    tracked = _track(backend, "b-4", "add-passkey")
    assert browser.sign_up(tracked["token"]).status_code == 200
    _refused(browser.sign_up(tracked["token"]), 403, "action_closed")
    _refused(browser.post(OPTIONS, {}, tracked["token"]), 403, "action_closed")

    # Two challenges begun with one token: only the first to finish counts.
    step_up = _track(backend, "b-4", "withdraw")
    first = _begin(browser, step_up["token"])
    second = _begin(browser, step_up["token"])
    won = _verify(browser, first, step_up["token"])
    assert won.status_code == 200, won.text
    _refused(_verify(browser, second, step_up["token"]), 403, "action_closed")
    assert backend.validate(won.json()["accessToken"])["isValid"] is True


def test_an_anonymous_sign_in_never_passes_for_a_tracked_action(
    backend: Backend, browser: Browser
) -> None:
    _enrol(backend, browser, "victim")
    attacker = Browser(browser.http, browser.tenant_id)
    tracked_by_attacker = _track(backend, "attacker", "add-passkey")
    assert attacker.sign_up(tracked_by_attacker["token"]).status_code == 200

    # A challenge begun before the backend ever tracked the name...
    early = attacker.post("challenge", {"action": "withdraw"})
    assert early.status_code == 200, early.text
    begun = _begin(attacker, None, early.json()["challengeId"])
    step_up = _track(backend, "victim", "withdraw")
    # ... cannot finish once it has: the name now belongs to tracked actions.
    _refused(_verify(attacker, begun, None), 403, "action_reserved")
    _refused(attacker.post("challenge", {"action": "withdraw"}), 403, "action_reserved")

    # The owner's step-up with its token works, and says it was not anonymous.
    done = _verify(browser, _begin(browser, step_up["token"]), step_up["token"])
    result = backend.validate(done.json()["accessToken"], action="withdraw")
    assert (result["isValid"], result["userId"], result["isAnonymous"]) == (True, "victim", False)

    # Any other name keeps working anonymously, and says so.
    for name in (None, "signInWithPasskey", "sign-in"):
        challenge = attacker.post("challenge", {"action": name} if name else {})
        assert challenge.status_code == 200, challenge.text
        signed_in = _verify(attacker, _begin(attacker, None, challenge.json()["challengeId"]), None)
        checked = backend.validate(signed_in.json()["accessToken"])
        assert checked["action"] == (name or "signInWithPasskey")
        assert (checked["isValid"], checked["userId"], checked["isAnonymous"]) == (
            True,
            "attacker",
            True,
        )


def test_a_tenant_narrows_anonymous_names(
    backend: Backend, browser: Browser, rt: Runtime, tenant_and_secret: tuple[Tenant, str]
) -> None:
    _enrol(backend, browser, "n-1")
    action_names.set_anonymous_actions(rt, tenant_and_secret[0].id, ["signInWithPasskey"])
    _refused(browser.post("challenge", {"action": "sign-in"}), 403, "action_not_allowed")
    done = _verify(browser, _begin(browser, None), None)
    assert backend.validate(done.json()["accessToken"])["action"] == "signInWithPasskey"
    action_names.set_anonymous_actions(rt, tenant_and_secret[0].id, [])
    _refused(browser.post(OPTIONS, {}), 403, "action_not_allowed")
    action_names.set_anonymous_actions(rt, tenant_and_secret[0].id, None)
    assert browser.post("challenge", {"action": "sign-in"}).status_code == 200


def test_validate_names_the_user_even_when_not_valid(backend: Backend, browser: Browser) -> None:
    token = _enrol(backend, browser, "v-1")["accessToken"]
    wrong = backend.validate(token, userId="someone-else")
    assert (wrong["isValid"], wrong["userId"], wrong["isAnonymous"]) == (False, "v-1", False)
    assert backend.validate(token)["isValid"] is True
    replayed = backend.validate(token)
    assert (replayed["isValid"], replayed["userId"]) == (False, "v-1")


def test_review_states_and_unknown_states(backend: Backend, browser: Browser) -> None:
    tracked = _track(backend, "r-1", "add-passkey")
    for state in ("REVIEW_REQUIRED", "REVIEW_SUCCEEDED", "REVIEW_FAILED"):
        changed = _set_state(backend, "r-1", tracked, state)
        assert (changed.status_code, changed.json()["state"]) == (200, state)
    _refused(_set_state(backend, "r-1", tracked, "SUCCEEDED"), 400, "invalid_request")
    _refused(browser.sign_up(tracked["token"]), 403, "action_closed")


def test_operators_set_anonymous_names_through_the_management_api(
    backend: Backend,
    browser: Browser,
    rt: Runtime,
    client: TestClient,
    tenant_and_secret: tuple[Tenant, str],
) -> None:
    world = make_world(rt, client, tenant_and_secret)
    path = f"/tenants/{world.a.id}/anonymous-actions"
    assert (
        world.call("GET", f"/tenants/{world.a.id}", world.a_op).json()["anonymousActions"] is None
    )
    bad = world.call("PUT", path, world.a_op, json={"names": ["no spaces"]})
    assert (bad.status_code, bad.json()["error"]) == (400, "invalid_request")
    done = world.call("PUT", path, world.a_op, json={"names": ["login", "login"]})
    assert (done.status_code, done.json()["anonymousActions"]) == (200, ["login"])
    assert admin_events(rt, world.a.id)[-1].kind == "admin.anonymous_actions.updated"
    _refused(browser.post("challenge", {}), 403, "action_not_allowed")
    assert browser.post("challenge", {"action": "login"}).status_code == 200
    assert (
        world.call("PUT", path, world.a_op, json={"names": None}).json()["anonymousActions"] is None
    )
    assert browser.post("challenge", {}).status_code == 200


def test_a_name_another_node_tracked_is_refused_at_verify(
    backend: Backend, browser: Browser, rt: Runtime, tenant_and_secret: tuple[Tenant, str]
) -> None:
    """The challenge's check reads a cache of a few seconds; the verify's reads the database."""
    from latchkey.store import actions as action_store

    _enrol(backend, browser, "c-1")
    assert browser.post("challenge", {"action": "transfer"}).status_code == 200  # cached: free
    with rt.transaction() as conn:  # another node's track: this one's cache does not know
        action_store.add_tracked_name(conn, tenant_and_secret[0].id, "transfer", rt.now())
    stale = browser.post("challenge", {"action": "transfer"})
    assert stale.status_code == 200, stale.text
    before = _action_rows(rt)
    _refused(
        _verify(browser, _begin(browser, None, stale.json()["challengeId"]), None),
        403,
        "action_reserved",
    )
    # The action's own INSERT refused it: no action and no result token were written.
    assert _action_rows(rt) == before


def _action_rows(rt: Runtime) -> tuple[int, int]:
    with rt.read() as conn:
        return (
            conn.execute(select(func.count()).select_from(actions)).scalar_one(),
            conn.execute(select(func.count()).select_from(tokens)).scalar_one(),
        )


def test_upgrade_reserves_names_tracked_before_and_marks_anonymous_sign_ins(
    engine: Any,
) -> None:
    """Migration 0020 on actions from before 0016: a tracked action had an action token."""
    from datetime import UTC, datetime

    from sqlalchemy import text

    from latchkey.store import migrate

    migrate.upgrade(engine, "0015")
    now = datetime.now(UTC)
    action = text(
        "INSERT INTO actions (id, tenant_id, user_id, action, idempotency_key, state, scope,"
        " attributes, created_at, state_updated_at) VALUES"
        " (:id, 't1', 'u1', :name, :id, 'CHALLENGE_SUCCEEDED', '', '{}', :now, :now)"
    )
    token = text(
        "INSERT INTO tokens (token_hash, tenant_id, action_id, kind, created_at, expires_at)"
        " VALUES (:hash, 't1', :action, :kind, :now, :now)"
    )
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO tenants (id, name, rp_id, rp_name, origins, policy, created_at,"
                " updated_at, related_origins)"
                " VALUES ('t1', 'T', 'localhost', 'T', '[]', '{}', :now, :now, '[]')"
            ),
            {"now": now},
        )
        conn.execute(
            text(
                "INSERT INTO directories (id, tenant_id, name, is_default, identifiers, settings,"
                " created_at, updated_at)"
                " VALUES ('d1', 't1', 'default', true, '{}', '{}', :now, :now)"
            ),
            {"now": now},
        )
        conn.execute(
            text(
                "INSERT INTO users (id, tenant_id, external_id, user_handle, created_at,"
                " updated_at, directory_id, profile)"
                " VALUES ('u1', 't1', 'ext', :handle, :now, :now, 'd1', '{}')"
            ),
            {"handle": b"\x01" * 32, "now": now},
        )
        for action_id, name in (("a1", "withdraw"), ("a2", "signInWithPasskey")):
            conn.execute(action, {"id": action_id, "name": name, "now": now})
        for n, action_id, kind in ((1, "a1", "action"), (2, "a1", "result"), (3, "a2", "result")):
            conn.execute(
                token, {"hash": bytes([n]) * 32, "action": action_id, "kind": kind, "now": now}
            )
    migrate.upgrade(engine)
    with engine.connect() as conn:
        names = conn.execute(text("SELECT tenant_id, action FROM tracked_action_names")).all()
        flags = dict(conn.execute(text("SELECT id, anonymous FROM actions")).all())
    assert [tuple(n) for n in names] == [("t1", "withdraw")]
    assert {k: bool(v) for k, v in flags.items()} == {"a1": False, "a2": True}
