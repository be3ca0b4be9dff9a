"""`latchkey webhook ...` on SQLite and PostgreSQL: endpoints made, listed, changed, rotated and
deleted; the delivery log and redelivery against a real receiver; bad input refused with the
rule; one tenant's endpoints out of another's reach; secrets printed once."""

from __future__ import annotations

import io
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from latchkey import config, runtime
from latchkey.cli import main
from latchkey.runtime import Runtime
from latchkey.services.webhook_worker import Drained, WebhookWorker
from latchkey.webhooks import signing
from tests.webhook_parties import Receiver, free_port


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    made = Receiver(port=free_port())
    made.start()
    yield made
    made.stop()


class Cli:
    def __init__(self, url: str, capsys: pytest.CaptureFixture[str]) -> None:
        self.url = url
        self.capsys = capsys

    def ok(self, *args: str) -> Any:
        """Run a command that must succeed; its JSON output."""
        assert main([*args, "--json", "--database-url", self.url]) == 0, self.capsys.readouterr()
        return json.loads(self.capsys.readouterr().out)

    def text(self, *args: str) -> str:
        assert main([*args, "--database-url", self.url]) == 0
        return self.capsys.readouterr().out

    def refused(self, *args: str) -> str:
        """Run a command that must fail; what it says on stderr."""
        assert main([*args, "--database-url", self.url]) == 2
        return self.capsys.readouterr().err


@pytest.fixture
def cli(database_url: str, capsys: pytest.CaptureFixture[str]) -> Cli:
    return Cli(database_url, capsys)


def make_tenant(cli: Cli) -> dict[str, Any]:
    made: dict[str, Any] = cli.ok(
        "tenant", "create", "--rp-id", "example.com", "--origin", "https://example.com"
    )
    return made


def test_endpoint_commands(cli: Cli) -> None:
    tenant = make_tenant(cli)["id"]
    made = cli.ok(
        "webhook",
        "create",
        tenant,
        "--url",
        "https://hooks.example.com/latchkey",
        "--event",
        "passkey.registration",
        "--event",
        "pool.*",
        "--description",
        "CRM sync",
    )
    secret = made.pop("secret")
    assert secret.startswith("whsec_")
    assert made["secretPrefix"] == secret[:10]
    assert (made["url"], made["eventTypes"], made["enabled"]) == (
        "https://hooks.example.com/latchkey",
        ["passkey.registration", "pool.*"],
        True,
    )
    assert cli.ok("webhook", "list", tenant) == [made]
    listed = cli.text("webhook", "list", tenant)
    assert made["id"] in listed
    assert secret not in listed

    changed = cli.ok("webhook", "update", tenant, made["id"], "--enabled", "off", "--all-events")
    assert (changed["enabled"], changed["eventTypes"], changed["description"]) == (
        False,
        [],
        "CRM sync",
    )

    rotated = cli.ok("webhook", "rotate-secret", tenant, made["id"])
    assert rotated["secret"] != secret
    assert rotated["secret"].startswith("whsec_")
    assert rotated["previousSecretExpiresAt"] is not None
    at_once = cli.ok("webhook", "rotate-secret", tenant, made["id"], "--keep-previous-hours", "0")
    assert at_once["previousSecretExpiresAt"] is None
    assert "0 to 7 days" in cli.refused(
        "webhook", "rotate-secret", tenant, made["id"], "--keep-previous-hours", "-1"
    )

    assert {"passkey.authentication", "admin.*"} <= set(cli.text("webhook", "types").split())
    assert "deleted webhook endpoint" in cli.text("webhook", "delete", tenant, made["id"])
    assert cli.ok("webhook", "list", tenant) == []
    assert "no webhook endpoint" in cli.refused("webhook", "delete", tenant, made["id"])


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--url", "http://hooks.example.com/"], "must use https"),
        (["--url", "file:///etc/passwd"], "must be https://"),
        (["--url", "https://u:p@hooks.example.com/"], "user name or password"),
        (["--url", "https://hooks.example.com/", "--event", "passkey.bogus"], "passkey.bogus"),
    ],
)
def test_bad_endpoints_are_refused_with_the_rule(cli: Cli, args: list[str], says: str) -> None:
    tenant = make_tenant(cli)["id"]
    assert says in cli.refused("webhook", "create", tenant, *args)
    assert cli.ok("webhook", "list", tenant) == []


def test_one_tenant_cannot_reach_anothers_endpoints(cli: Cli) -> None:
    mine, theirs = make_tenant(cli)["id"], make_tenant(cli)["id"]
    made = cli.ok("webhook", "create", mine, "--url", "https://hooks.example.com/")
    assert cli.ok("webhook", "list", theirs) == []
    for action in ("delete", "rotate-secret", "test", "update"):
        assert "no webhook endpoint" in cli.refused("webhook", action, theirs, made["id"])
    assert "no tenant" in cli.refused("webhook", "list", "nope")
    assert len(cli.ok("webhook", "list", mine)) == 1


def test_the_tenant_secret_key_as_signing_secret_from_stdin(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    tenant = make_tenant(cli)
    monkeypatch.setattr("sys.stdin", io.StringIO(tenant["secret_key"] + "\n"))
    made = cli.ok(
        "webhook", "create", tenant["id"], "--url", "https://h.example.com/", "--secret-stdin"
    )
    assert made["secret"] == tenant["secret_key"]
    assert made["secretPrefix"] == tenant["secret_key"][:14]  # lk_secret_ and 4 more
    monkeypatch.setattr("sys.stdin", io.StringIO("too-short\n"))
    says = cli.refused(
        "webhook", "create", tenant["id"], "--url", "https://h.example.com/", "--secret-stdin"
    )
    assert "32 to 200 printable ASCII" in says


def _runtime(url: str) -> Runtime:
    return runtime.build(config.from_env().with_overrides(database_url=url))


def test_the_delivery_log_and_redelivery(cli: Cli, receiver: Receiver) -> None:
    tenant = make_tenant(cli)["id"]
    # Filtered, so the CLI's own changes (admin.* events, this creation included) stay out of
    # the log: a test event is sent whatever the filter.
    made = cli.ok("webhook", "create", tenant, "--url", receiver.url, "--event", "passkey.*")
    queued = cli.ok("webhook", "test", tenant, made["id"])
    assert (queued["eventType"], queued["state"], queued["attempts"]) == (
        "webhook.test",
        "pending",
        0,
    )

    rt = _runtime(cli.url)
    try:
        worker = WebhookWorker(rt, concurrency=1, timeout_seconds=5, allow_private=True)
        assert worker.drain_once() == Drained(delivered=1)
        (delivered,) = cli.ok("webhook", "deliveries", tenant)
        assert (delivered["id"], delivered["state"], delivered["lastStatus"]) == (
            queued["id"],
            "delivered",
            200,
        )
        (attempt,) = cli.ok("webhook", "attempts", tenant, queued["id"])
        assert (attempt["attempt"], attempt["status"], attempt["error"]) == (1, 200, None)

        again = cli.ok("webhook", "redeliver", tenant, queued["id"])
        assert (again["redeliveryOf"], again["eventId"]) == (queued["id"], queued["eventId"])
        assert cli.ok("webhook", "deliveries", tenant, "--state", "pending") == [again]
        assert worker.drain_once() == Drained(delivered=1)
    finally:
        rt.engine.dispose()

    first, second = receiver.requests
    assert first.body == second.body  # the same event, signed afresh
    for got in (first, second):
        event = signing.verify(
            made["secret"], got.headers["X-Signature-V2"], got.body, now=int(time.time())
        )
        assert event["id"] == queued["eventId"]
    log = cli.text("webhook", "deliveries", tenant)
    assert made["secret"] not in log
    assert "state=delivered" in log
    other = make_tenant(cli)["id"]
    assert "no webhook delivery" in cli.refused("webhook", "redeliver", other, queued["id"])
    assert "no webhook delivery" in cli.refused("webhook", "attempts", other, queued["id"])
