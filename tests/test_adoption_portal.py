"""The portal's adoption page: the scripted figures in its tables, a pool and days chosen,
each table's CSV link answering with the portal session, a bad date refused with its reason,
another tenant's page and CSV not found for a tenant-scoped operator."""

from __future__ import annotations

import csv
import html
import io
import re

import pytest
from litestar.testing import TestClient

from latchkey.models import Tenant
from latchkey.runtime import Runtime
from latchkey.services import directories, tenants
from tests.support.adoption import CHROME_ANDROID, GOOGLE, SAFARI_MAC, Script
from tests.support.clock import FakeClock
from tests.support.portal import Operator, new_operator
from tests.web_parties import ORIGIN


@pytest.fixture
def root(rt: Runtime, client: TestClient) -> Operator:
    """A global operator, signed in to the portal."""
    return new_operator(rt, client)


@pytest.fixture
def shop(rt: Runtime, clock: FakeClock, tenant_and_secret: tuple[Tenant, str]) -> dict[str, str]:
    """Today: pool "web" with two autofill sign-ins and a password one, pool "app" with one."""
    tenant = tenant_and_secret[0]
    web = directories.create(rt, tenant.id, "web", {"email": "required"}).id
    app = directories.create(rt, tenant.id, "app", {"email": "required"}).id
    s = Script(rt, tenant)
    ann, bob, cat = s.user(web, "ann"), s.user(web, "bob"), s.user(app, "cat")
    key = s.passkey(ann, GOOGLE, synced=True)
    for ms in (1200, 1800):
        s.event("pool.signed_in", web, user_id=ann, credential_id=key, method="autofill",
                elapsed_ms=ms, agent=CHROME_ANDROID)  # fmt: skip
    s.event("pool.password_sign_in", web, user_id=bob, method="password", elapsed_ms=9000,
            agent=SAFARI_MAC)  # fmt: skip
    s.event("pool.passkey_offer_shown", web, user_id=bob)
    s.event("pool.signed_in", app, user_id=cat, method="button", elapsed_ms=700)
    clock.advance(seconds=1)  # the period ends now, exclusive
    return {"tenant": tenant.id, "web": web, "app": app}


def table(page: str, name: str) -> list[tuple[str, str]]:
    found = re.search(rf'<table id="table-{name}">(.*?)</table>', page, re.S)
    assert found, name
    cells = re.findall(r"<tr><td>(.*?)</td><td class=\"number\">(.*?)</td></tr>", found.group(1))
    return [(html.unescape(a), b) for a, b in cells]


def test_the_page_shows_a_pools_figures(root: Operator, shop: dict[str, str]) -> None:
    page = root.page(f"/portal/t/{shop['tenant']}/adoption?pool={shop['web']}")
    assert page.status_code == 200, page.text
    text = page.text
    assert table(text, "funnel") == [
        ("Sign-in pages loaded", "0"),
        ("Users who signed in", "2"),
        ("… of them with a passkey", "1"),
        ("Sign-ins", "3"),
    ]
    assert table(text, "methods")[0] == ("Passkey autofill", "2")
    assert ("Password", "1") in table(text, "methods")
    assert table(text, "time_to_sign_in") == [("Median", "1800"), ("90th percentile", "9000"),
                                              ("Sign-ins timed", "3")]  # fmt: skip
    assert table(text, "offers") == [("Shown", "1"), ("Accepted", "0"), ("Declined", "0")]
    assert table(text, "operating_systems") == [("Android", "2"), ("Mac OS X", "1")]
    assert table(text, "providers") == [("Google Password Manager", "2")]
    assert table(text, "failure_reasons") == []
    assert "Nothing in this period." in text
    assert f'<option value="{shop["web"]}" selected>web</option>' in text
    # Every chart has its data and a CSV link beside it.
    assert text.count("<canvas data-chart=") == text.count('id="csv-') == 10


def test_all_pools_together(root: Operator, shop: dict[str, str]) -> None:
    page = root.page(f"/portal/t/{shop['tenant']}/adoption").text
    assert ("Sign-ins", "4") in table(page, "funnel")
    assert ("Passkey button", "1") in table(page, "methods")


def test_each_csv_link_answers_with_the_portal_session(
    root: Operator, shop: dict[str, str]
) -> None:
    page = root.page(f"/portal/t/{shop['tenant']}/adoption?pool=web").text
    link = html.unescape(re.search(r'href="([^"]+)" id="csv-methods"', page).group(1))  # type: ignore[union-attr]
    assert "poolId=" + shop["web"] in link
    answer = root.client.get(link)
    assert answer.status_code == 200, answer.text
    rows = list(csv.reader(io.StringIO(answer.text)))
    assert rows[0] == ["name", "count"]
    assert ["autofill", "2"] in rows
    assert ["password", "1"] in rows
    everything = html.unescape(re.search(r'href="([^"]+)" id="export-all"', page).group(1))  # type: ignore[union-attr]
    assert ["funnel", "sign_ins", "3"] in list(
        csv.reader(io.StringIO(root.client.get(everything).text))
    )


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("since=yesterday", "From is not a date (YYYY-MM-DD)"),
        ("since=2026-02-01&until=2026-01-01", "since must be before until"),
        ("since=2024-01-01&until=2026-01-01", "a period is at most 366 days"),
        ("pool=nope", "unknown pool"),
    ],
)
def test_a_bad_choice_is_refused_with_its_reason(
    root: Operator, shop: dict[str, str], query: str, message: str
) -> None:
    page = root.page(f"/portal/t/{shop['tenant']}/adoption?{query}")
    assert page.status_code in (400, 404), page.text
    assert html.escape(message) in page.text
    assert table(page.text, "funnel")[3] == ("Sign-ins", "0")


def test_a_tenant_operator_sees_only_their_tenants_figures(
    rt: Runtime, client: TestClient, shop: dict[str, str]
) -> None:
    other, _ = tenants.create(rt, rp_id="localhost", rp_name="Other", origins=[ORIGIN])
    me = new_operator(rt, client, other.id)
    assert me.page(f"/portal/t/{shop['tenant']}/adoption").status_code == 404
    stolen = me.client.get(f"/admin/v1/tenants/{shop['tenant']}/adoption/export")
    assert stolen.status_code == 404
    assert me.page(f"/portal/t/{other.id}/adoption").status_code == 200
    # A pool of another tenant names nothing here.
    assert me.page(f"/portal/t/{other.id}/adoption?pool={shop['web']}").status_code == 404
