"""The hosted vendor's unmodified Node SDK (npm @authsignal/node, pinned in
tests/browser/js/package.json) against a real Latchkey, with only its apiUrl changed: the
calls of issue 18 items 12-16 as a team's Node backend makes them."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.live_server import LiveServer, live_server
from tests.support.authsignal_node import VENDOR_JS, vendor_verifier  # noqa: F401 - the npm ci fixture
from tests.web_browser_client import LiveBrowser

# Each step is one SDK method with its request; the answers (or the SDK's error) come back.
CALLS_JS = """
const { Authsignal } = require("@authsignal/node");
let input = "";
process.stdin.on("data", (chunk) => (input += chunk));
process.stdin.on("end", async () => {
  const { apiUrl, secret, steps } = JSON.parse(input);
  const authsignal = new Authsignal({ apiSecretKey: secret, apiUrl, retries: 0 });
  const results = [];
  for (const [method, request] of steps) {
    try {
      results.push({ ok: true, value: (await authsignal[method](request)) ?? null });
    } catch (error) {
      results.push({
        ok: false,
        statusCode: error.statusCode,
        errorCode: error.errorCode,
        errorDescription: error.errorDescription,
      });
    }
  }
  process.stdout.write(JSON.stringify(results));
});
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with live_server(Path(tmp_path_factory.mktemp("authsignal-node"))) as running:
        yield running


@pytest.fixture
def browser(server: LiveServer) -> Iterator[LiveBrowser]:
    opened = LiveBrowser(server)
    yield opened
    opened.close()


@pytest.fixture
def node_sdk(server: LiveServer, vendor_verifier: Path) -> Any:  # noqa: F811
    script = vendor_verifier / "calls.js"
    script.write_text(CALLS_JS)

    def run(*steps: tuple[str, dict[str, Any]]) -> list[Any]:
        done = subprocess.run(
            ["node", script.name],
            cwd=vendor_verifier,
            env={"PATH": "/usr/bin:/bin", "NODE_PATH": str(VENDOR_JS / "node_modules")},
            input=json.dumps(
                {"apiUrl": f"{server.url}/v1", "secret": server.secret, "steps": steps}
            ),
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        )
        answers: list[Any] = json.loads(done.stdout)
        return answers

    return run


def _values(answers: list[Any]) -> list[Any]:
    assert all(a["ok"] for a in answers), answers
    return [a["value"] for a in answers]


def test_idempotent_track_and_the_action_calls(node_sdk: Any, browser: LiveBrowser) -> None:
    key = "0f7e6d5c-4b3a-4291-8f7e-6d5c4b3a2918"
    track = {"userId": "node-1", "action": "add-passkey", "attributes": {"idempotencyKey": key}}
    first, again, found = _values(
        node_sdk(
            ("track", track),
            ("track", track),
            ("getAction", {"userId": "node-1", "action": "add-passkey", "idempotencyKey": key}),
        )
    )
    assert (first["idempotencyKey"], again["token"]) == (key, first["token"])
    assert found["state"] == "CHALLENGE_REQUIRED"
    signed_up = browser.sign_up(first["token"])

    validated, reviewed, failed, listed, filtered, clash = node_sdk(
        ("validateChallenge", {"token": signed_up["accessToken"], "userId": "node-1"}),
        ("updateAction", {"userId": "node-1", "action": "add-passkey", "idempotencyKey": key,
                          "attributes": {"state": "REVIEW_SUCCEEDED"}}),
        ("updateAction", {"userId": "node-1", "action": "add-passkey", "idempotencyKey": key,
                          "attributes": {"state": "REVIEW_FAILED"}}),
        ("queryUserActions", {"userId": "node-1"}),
        ("queryUserActions", {"userId": "node-1", "actionCodes": ["sign-in"],
                              "fromDate": "2020-01-01T00:00:00.000Z"}),
        ("track", {**track, "userId": "node-2"}),
    )  # fmt: skip
    assert validated["value"]["isValid"] is True
    assert validated["value"]["action"] == "add-passkey"
    assert validated["value"]["isAnonymous"] is False
    assert reviewed["value"]["state"] == "REVIEW_SUCCEEDED"
    assert failed["value"]["state"] == "REVIEW_FAILED"
    [action] = listed["value"]
    assert (action["actionCode"], action["idempotencyKey"], action["state"]) == (
        "add-passkey",
        key,
        "REVIEW_FAILED",
    )
    assert action["verificationMethod"] == "PASSKEY"
    assert filtered["value"] == []
    # The SDK reads the answer's `error` (the class, conflict), not its errorCode.
    assert (clash["statusCode"], clash["errorCode"]) == (409, "conflict")
    assert "idempotencyKey" in clash["errorDescription"]


def test_users_list_and_fields(node_sdk: Any, browser: LiveBrowser) -> None:
    tracked = _values(
        node_sdk(
            *[
                ("track", {"userId": f"list-{n}", "action": "add-passkey",
                           "attributes": {"email": f"list{n}@example.com", "username": f"l{n}"}})
                for n in range(3)
            ]
        )
    )  # fmt: skip
    browser.sign_up(tracked[0]["token"])
    updated, user, page_one, by_email, authenticators = _values(
        node_sdk(
            ("updateUser", {"userId": "list-0", "attributes": {
                "emailVerified": True, "custom": {"plan": "pro", "seats": 2}}}),
            ("getUser", {"userId": "list-0"}),
            ("queryUsers", {"limit": 2}),
            ("queryUsers", {"email": "list2@example.com"}),
            ("getAuthenticators", {"userId": "list-0"}),
        )
    )  # fmt: skip
    assert (updated["emailVerified"], updated["custom"]) == (True, {"plan": "pro", "seats": 2})
    assert (user["isEnrolled"], user["emailVerified"], user["phoneNumberVerified"]) == (
        True,
        True,
        False,
    )
    assert user["custom"] == {"plan": "pro", "seats": 2}
    assert len(page_one["users"]) == 2
    [page_two] = _values(
        node_sdk(
            ("queryUsers", {"limit": 2, "lastEvaluatedUserId": page_one["lastEvaluatedUserId"]})
        )
    )
    everyone = [u["userId"] for u in page_one["users"] + page_two["users"]]
    assert {"list-0", "list-1", "list-2"} <= set(everyone)
    assert len(everyone) == len(set(everyone))
    assert [u["userId"] for u in by_email["users"]] == ["list-2"]
    assert by_email["users"][0]["emailVerified"] is False
    [authenticator] = authenticators
    assert authenticator["userId"] == "list-0"
