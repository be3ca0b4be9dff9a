"""The management API's event log on SQLite and PostgreSQL: filters, cursor pages that neither
skip nor repeat while events are being written, JSON-lines and CSV export, and retention."""

from __future__ import annotations

import csv
import io
import json
import threading

import pytest
from litestar.testing import TestClient

from latchkey.models import Tenant
from latchkey.runtime import RequestMeta, Runtime
from latchkey.services import event_log, events, retention
from tests.support.admin import World, admin_events, make_world


@pytest.fixture
def world(rt: Runtime, client: TestClient, tenant_and_secret: tuple[Tenant, str]) -> World:
    return make_world(rt, client, tenant_and_secret)


def _seed(rt: Runtime, tenant_id: str, count: int, ua: str = "seed", **kw: object) -> None:
    with rt.transaction() as conn:
        for i in range(count):
            rt.clock.advance(seconds=1)  # type: ignore[attr-defined]
            events.record(
                conn,
                rt,
                tenant_id=tenant_id,
                kind="passkey.authentication" if i % 2 else "passkey.registration",
                meta=RequestMeta(ip="10.0.0.1", user_agent=ua),
                reason="bad_signature" if i % 3 == 0 else None,
                detail={"i": i, **kw},
            )


def test_filters_and_pages(world: World) -> None:
    _seed(world.rt, world.a.id, 30)
    _seed(world.rt, world.b.id, 5)
    path = f"/tenants/{world.a.id}/events"
    page = world.call("GET", path, world.a_op, params={"limit": 7}).json()
    assert len(page["events"]) == 7
    assert page["nextCursor"]
    seen = [e["id"] for e in page["events"]]
    while page["nextCursor"]:
        params = {"limit": 7, "cursor": page["nextCursor"]}
        page = world.call("GET", path, world.a_op, params=params).json()
        seen += [e["id"] for e in page["events"]]
    assert len(seen) == len(set(seen)) == 30
    failures = world.call("GET", path, world.a_op, params={"outcome": "failure"}).json()
    assert {e["reason"] for e in failures["events"]} == {"bad_signature"}
    assert len(failures["events"]) == 10
    signins = world.call("GET", path, world.a_op, params={"kind": "passkey.auth*"}).json()
    assert {e["kind"] for e in signins["events"]} == {"passkey.authentication"}
    newest = failures["events"][0]["createdAt"]
    window = {"since": failures["events"][2]["createdAt"], "until": newest}
    ranged = world.call("GET", path, world.a_op, params=window).json()["events"]
    assert all(window["since"] <= e["createdAt"] < newest for e in ranged)
    assert len(ranged) == 6


def test_hostile_event_queries(world: World) -> None:
    path = f"/tenants/{world.a.id}/events"
    for params in (
        {"cursor": "not-a-cursor"},
        {"cursor": "W10"},  # base64url of []
        {"outcome": "maybe"},
        {"limit": 0},
        {"limit": 501},
        {"since": "yesterday"},
        {"since": "2026-01-01T00:00:00"},  # no time zone
    ):
        answer = world.call("GET", path, world.a_op, params=params)
        assert answer.status_code == 400, (params, answer.text)
        assert answer.json()["error"] == "invalid_request"
        assert answer.json()["message"]


def test_pages_neither_skip_nor_repeat_under_concurrent_inserts(world: World) -> None:
    _seed(world.rt, world.a.id, 120)
    before = {e.id for e in event_log.iterate(world.rt, world.a.id, event_log.EventFilter())}
    stop = threading.Event()

    def writer() -> None:
        while not stop.is_set():
            _seed(world.rt, world.a.id, 3, concurrent=True)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        seen: list[str] = []
        cursor = None
        while True:
            params = {"limit": 9, **({"cursor": cursor} if cursor else {})}
            page = world.call("GET", f"/tenants/{world.a.id}/events", world.a_op, params=params)
            seen += [e["id"] for e in page.json()["events"]]
            cursor = page.json()["nextCursor"]
            if not cursor:
                break
    finally:
        stop.set()
        thread.join()
    assert len(seen) == len(set(seen)), "an event was repeated"
    assert before <= set(seen), "an event was skipped"


def test_export_as_json_lines_and_csv(world: World) -> None:
    _seed(world.rt, world.a.id, 4)
    _seed(world.rt, world.a.id, 1, ua='=HYPERLINK("http://evil")')
    path = f"/tenants/{world.a.id}/events/export"
    lines = world.call("GET", path, world.a_op)
    assert lines.status_code == 200
    assert lines.headers["content-type"] == "application/x-ndjson"
    rows = [json.loads(line) for line in lines.text.splitlines()]
    assert len(rows) == 5
    assert rows[0]["userAgent"].startswith("=")
    table = world.call("GET", path, world.a_op, params={"format": "csv", "outcome": "failure"})
    assert table.headers["content-type"].startswith("text/csv")
    assert "attachment" in table.headers["content-disposition"]
    parsed = list(csv.DictReader(io.StringIO(table.text)))
    assert {r["outcome"] for r in parsed} == {"failure"}
    assert len(parsed) == 3
    # A cell a spreadsheet would run as a formula is defused.
    evil = parsed[0]["userAgent"]
    assert evil == '\'=HYPERLINK("http://evil")'
    assert parsed[1]["userAgent"] == "seed"
    bad = world.call("GET", path, world.a_op, params={"format": "xml"})
    assert bad.status_code == 400
    assert bad.json()["error"] == "invalid_request"


def test_retention_setting_and_pruning(world: World) -> None:
    _seed(world.rt, world.a.id, 3)
    _seed(world.rt, world.b.id, 3)
    world.rt.clock.advance(days=40)  # type: ignore[attr-defined]
    _seed(world.rt, world.a.id, 2)
    path = f"/tenants/{world.a.id}/event-retention"
    for days in (0, 4000, True, -1, "forever"):
        assert world.call("PUT", path, world.a_op, json={"days": days}).status_code == 400
    answer = world.call("PUT", path, world.a_op, json={"days": 30})
    assert answer.status_code == 200
    assert answer.json()["eventRetentionDays"] == 30
    (audit,) = admin_events(world.rt, world.a.id)
    assert audit.detail["before"] == {"days": None}
    assert audit.detail["after"] == {"days": 30}
    assert retention.prune(world.rt) == {world.a.id: 3}
    left = list(event_log.iterate(world.rt, world.a.id, event_log.EventFilter()))
    assert len(left) == 3  # the two recent ones and the audit event
    # Tenant B keeps everything: it has no retention set.
    assert len(list(event_log.iterate(world.rt, world.b.id, event_log.EventFilter()))) == 3
    world.rt.clock.advance(days=31)  # type: ignore[attr-defined]
    assert retention.prune(world.rt, tenant_id=world.a.id) == {world.a.id: 3}
    assert world.call("PUT", path, world.a_op, json={"days": None}).status_code == 200


def test_the_pruning_worker_runs_in_the_background(world: World) -> None:
    _seed(world.rt, world.a.id, 2)
    retention.set_retention(world.rt, world.a.id, 1)
    world.rt.clock.advance(days=2)  # type: ignore[attr-defined]
    worker = retention.RetentionWorker(world.rt, every_seconds=0.05)
    worker.start()
    try:
        for _ in range(100):
            if not list(event_log.iterate(world.rt, world.a.id, event_log.EventFilter())):
                break
            threading.Event().wait(0.05)
    finally:
        worker.stop()
    assert list(event_log.iterate(world.rt, world.a.id, event_log.EventFilter())) == []
