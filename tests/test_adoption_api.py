"""/admin/v1/tenants/{tenantId}/adoption and its CSV export: the scripted figures exactly as
JSON, per pool and for the tenant; a tenant-scoped operator sees only its tenant; hostile
periods and pools refused with their reason; CSV cells defused against formulas."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from typing import Any

import pytest
from litestar.testing import TestClient

from latchkey.models import Tenant
from latchkey.runtime import Runtime
from latchkey.services import directories, pools
from tests.support.admin import World, make_world
from tests.support.adoption import CHROME_WINDOWS, ICLOUD, SAFARI_MAC, Script


@pytest.fixture
def world(rt: Runtime, client: TestClient, tenant_and_secret: tuple[Tenant, str]) -> World:
    return make_world(rt, client, tenant_and_secret)


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


@pytest.fixture
def period(world: World) -> dict[str, str]:
    """Tenant A's pool "shop": two passkey sign-ins by one user, a password sign-in, the
    offer shown and declined, a failed password; pool "staff": a recovery."""
    rt, clock = world.rt, world.rt.clock
    shop = directories.create(rt, world.a.id, "shop", {"email": "required"}).id
    staff = directories.create(rt, world.a.id, "staff", {"email": "required"}).id
    s = Script(rt, world.a)
    ann, bob, cat = s.user(shop, "ann"), s.user(shop, "bob"), s.user(staff, "cat")
    key = s.passkey(ann, ICLOUD, synced=True)
    since = rt.now()
    s.event("pool.page_loaded", shop)
    s.event("pool.page_loaded", shop)
    s.event("pool.signed_in", shop, user_id=ann, credential_id=key, method="autofill",
            elapsed_ms=700, agent=SAFARI_MAC)  # fmt: skip
    s.event("pool.signed_in", shop, user_id=ann, credential_id=key, method="autofill",
            elapsed_ms=900, agent=SAFARI_MAC)  # fmt: skip
    s.event("pool.password_sign_in", shop, user_id=bob, method="password", elapsed_ms=5000,
            agent="=HYPERLINK(1)")  # fmt: skip
    s.event("pool.passkey_offer_shown", shop, user_id=bob)
    s.event("pool.passkey_offer_declined", shop, user_id=bob)
    s.event("pool.password_sign_in", shop, reason="invalid_credentials")
    s.event("pool.recovered", staff, user_id=cat, agent=CHROME_WINDOWS)
    clock.advance(minutes=1)  # type: ignore[attr-defined]
    return {"since": iso(since), "until": iso(rt.now())}


def counted(*pairs: tuple[str, int]) -> list[dict[str, Any]]:
    return [{"name": name, "count": n} for name, n in pairs]


def test_a_pools_figures_as_json(world: World, period: dict[str, str]) -> None:
    path = f"/tenants/{world.a.id}/adoption"
    answer = world.call("GET", path, world.a_op, params={**period, "poolId": "shop"})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    shop = pools.get(world.rt, world.a.id, "shop").id
    assert body == {
        "since": period["since"],
        "until": period["until"],
        "poolId": shop,
        "funnel": {"pagesLoaded": 2, "usersSignedIn": 2, "usersWithPasskey": 1, "signIns": 3},
        "offers": {"shown": 1, "accepted": 0, "declined": 1},
        "methods": counted(
            ("autofill", 2),
            ("button", 0),
            ("identifier", 0),
            ("passkey", 0),
            ("password", 1),
            ("recovery", 0),
        ),
        "timeToSignIn": {"medianMs": 900, "p90Ms": 5000, "timed": 3},
        "failures": {
            "total": 1,
            "byReason": counted(("invalid_credentials", 1)),
            "byStep": counted(("password", 1)),
        },
        "platforms": {
            "operatingSystems": counted(("Mac OS X", 2), ("Unknown", 1)),
            "browsers": counted(("Safari", 2), ("Unknown", 1)),
        },
        "passkeys": {"providers": counted(("iCloud Keychain", 2)), "synced": 2, "deviceBound": 0},
    }


def test_the_tenants_figures_count_every_pool(world: World, period: dict[str, str]) -> None:
    body = world.call("GET", f"/tenants/{world.a.id}/adoption", world.root, params=period).json()
    assert body["poolId"] is None
    assert body["funnel"] == {"pagesLoaded": 2, "usersSignedIn": 3, "usersWithPasskey": 1,
                              "signIns": 4}  # fmt: skip
    assert dict((m["name"], m["count"]) for m in body["methods"])["recovery"] == 1


def test_the_default_period_is_the_last_30_days(world: World, period: dict[str, str]) -> None:
    body = world.call("GET", f"/tenants/{world.a.id}/adoption", world.a_op).json()
    since, until = (datetime.fromisoformat(body[k]) for k in ("since", "until"))
    assert until - since == timedelta(days=30)
    assert body["funnel"]["signIns"] == 4


def test_a_tenant_scoped_operator_sees_only_its_tenant(
    world: World, period: dict[str, str]
) -> None:
    for path in (f"/tenants/{world.b.id}/adoption", f"/tenants/{world.b.id}/adoption/export"):
        answer = world.call("GET", path, world.a_op, params=period)
        assert answer.status_code == 404, answer.text
        assert answer.json()["error"] == "tenant_not_found"
    # Another tenant's pool is no pool of this one.
    other = directories.create(world.rt, world.b.id, "theirs", {"email": "required"}).id
    answer = world.call("GET", f"/tenants/{world.a.id}/adoption", world.a_op,
                        params={"poolId": other})  # fmt: skip
    assert answer.status_code == 404
    assert answer.json()["error"] == "pool_not_found"
    assert world.call("GET", f"/tenants/{world.b.id}/adoption", world.root).status_code == 200
    assert world.call("GET", f"/tenants/{world.a.id}/adoption", {}).status_code == 401


@pytest.mark.parametrize(
    "params",
    [
        {"since": "2026-01-01T00:00:00"},  # no time zone
        {"until": "2026-01-01T00:00:00"},
        {"since": "yesterday"},
        {"since": "2026-02-01T00:00:00Z", "until": "2026-01-01T00:00:00Z"},
        {"since": "2026-01-01T00:00:00Z", "until": "2026-01-01T00:00:00Z"},
        {"since": "2025-01-01T00:00:00Z", "until": "2026-01-03T00:00:00Z"},  # over 366 days
        {"poolId": "p" * 65},
        {"table": "everything"},
    ],
)
def test_hostile_queries_are_refused(world: World, params: dict[str, str]) -> None:
    path = f"/tenants/{world.a.id}/adoption"
    if "table" in params:
        path += "/export"
    answer = world.call("GET", path, world.a_op, params=params)
    assert answer.status_code == 400, (params, answer.text)
    assert answer.json()["error"] == "invalid_request"
    assert answer.json()["message"]


def test_each_table_exports_as_csv(world: World, period: dict[str, str]) -> None:
    path = f"/tenants/{world.a.id}/adoption/export"
    answer = world.call("GET", path, world.a_op, params={**period, "table": "methods",
                                                         "poolId": "shop"})  # fmt: skip
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "text/csv; charset=utf-8"
    assert answer.headers["content-disposition"] == (
        f'attachment; filename="latchkey-adoption-{world.a.id}-methods.csv"'
    )
    assert list(csv.reader(io.StringIO(answer.text))) == [
        ["name", "count"], ["autofill", "2"], ["button", "0"], ["identifier", "0"],
        ["passkey", "0"], ["password", "1"], ["recovery", "0"],
    ]  # fmt: skip
    timing = world.call("GET", path, world.a_op, params={**period, "table": "time_to_sign_in"})
    assert list(csv.reader(io.StringIO(timing.text)))[1:] == [
        ["median_ms", "900"],
        ["p90_ms", "5000"],
        ["timed", "3"],
    ]


def test_the_whole_export_names_each_table(world: World, period: dict[str, str]) -> None:
    path = f"/tenants/{world.a.id}/adoption/export"
    rows = list(csv.reader(io.StringIO(world.call("GET", path, world.a_op, params=period).text)))
    assert rows[0] == ["table", "name", "count"]
    assert ["funnel", "sign_ins", "4"] in rows
    assert ["offers", "declined", "1"] in rows
    assert {r[0] for r in rows[1:]} == {
        "funnel", "offers", "methods", "time_to_sign_in", "failure_reasons", "failure_steps",
        "operating_systems", "browsers", "providers", "synced",
    }  # fmt: skip


def test_csv_cells_cannot_be_formulas(world: World, period: dict[str, str]) -> None:
    Script(world.rt, world.a).event("pool.password_sign_in", None, reason="=SUM(1+1)")
    path = f"/tenants/{world.a.id}/adoption/export"
    params = {"table": "failure_reasons", "until": iso(world.rt.now() + timedelta(seconds=1))}
    rows = list(csv.reader(io.StringIO(world.call("GET", path, world.a_op, params=params).text)))
    assert rows == [["name", "count"], ["'=SUM(1+1)", "1"], ["invalid_credentials", "1"]]
