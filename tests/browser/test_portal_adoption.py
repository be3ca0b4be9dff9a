"""The portal's passkey-adoption page in Chromium: an operator enrolled from `latchkey admin
create` opens it over a scripted event log (written to the live server's database), sees every
chart drawn by the vendored Chart.js with its table beside it, narrows it to a pool, follows
a CSV link; screenshots light and dark, and no CSP violation or page error."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Any

import pytest

from latchkey.runtime import Runtime
from latchkey.services import directories, tenants
from latchkey.store.engine import make_engine
from tests.browser.flows import Tab
from tests.live_server import LiveServer, live_server
from tests.support.adoption import (
    CHROME_ANDROID,
    CHROME_WINDOWS,
    FIREFOX_LINUX,
    GOOGLE,
    ICLOUD,
    SAFARI_MAC,
    YUBIKEY,
    Script,
)
from tests.support.portal_tab import admin_create, at, shoot, watch_csp

CHARTS = 10


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with live_server(tmp_path_factory.mktemp("adoption")) as running:
        yield running


def scripted_log(server: LiveServer) -> str:
    """A day of a shop's hosted sign-ins in two pools; returns the "web" pool's id."""
    engine = make_engine(server.database_url)
    rt = Runtime(engine=engine, master_key=secrets.token_bytes(32))
    try:
        tenant = tenants.get(rt, server.tenant_id)
        web = directories.create(rt, tenant.id, "web", {"email": "required"}).id
        app = directories.create(rt, tenant.id, "app", {"email": "required"}).id
        s = Script(rt, tenant)
        people = []
        devices = [
            (ICLOUD, True, SAFARI_MAC),
            (GOOGLE, True, CHROME_ANDROID),
            (YUBIKEY, False, CHROME_WINDOWS),
            (None, False, FIREFOX_LINUX),
        ]
        for i, (aaguid, synced, agent) in enumerate(devices):
            user = s.user(web if i < 3 else app, f"user{i}")
            key = s.passkey(user, aaguid, synced=synced) if aaguid else None
            people.append((user, key, agent))
        for _ in range(40):
            s.event("pool.page_loaded", web)
        for n, method in ((14, "autofill"), (6, "button"), (4, "identifier")):
            for j in range(n):
                user, key, agent = people[j % 3]
                s.event("pool.signed_in", web, user_id=user, credential_id=key, method=method,
                        elapsed_ms=900 + 150 * j, agent=agent)  # fmt: skip
        user, _, agent = people[3]
        for j in range(5):
            s.event("pool.password_sign_in", app, user_id=user, method="password",
                    elapsed_ms=6000 + 500 * j, agent=agent)  # fmt: skip
        for kind, n in (("shown", 5), ("accepted", 2), ("declined", 2)):
            for _ in range(n):
                s.event(f"pool.passkey_offer_{kind}", app, user_id=user)
        s.event("pool.recovered", web, user_id=people[0][0], agent=SAFARI_MAC)
        for reason, n in (("credential_not_found", 3), ("user_verification_required", 1)):
            for _ in range(n):
                s.event("passkey.authentication", web, reason=reason)
        s.event("pool.password_sign_in", app, reason="invalid_credentials", user_id=user)
        return web
    finally:
        engine.dispose()


def charts_drawn(tab: Tab) -> None:
    page = tab.page
    page.wait_for_function(f"document.querySelectorAll('canvas').length === {CHARTS}")
    page.wait_for_function(
        "[...document.querySelectorAll('canvas')].every(c => window.Chart.getChart(c))"
    )


def test_the_adoption_page(blank_tab: Any, server: LiveServer) -> None:
    web = scripted_log(server)
    tab: Tab = blank_tab()
    problems = watch_csp(tab)
    page = tab.page
    page.goto(admin_create(server, "first@example.com"))
    page.click("#passkey-enrol")
    at(tab, "/portal")
    base = f"{server.url}/portal/t/{server.tenant_id}"

    page.goto(f"{base}/adoption")
    charts_drawn(tab)
    assert page.inner_text("#users-signed-in") == "4"
    assert page.inner_text("#users-with-passkey") == "3 (75%)"
    assert page.inner_text("#offers-accepted") == "2 / 5"
    assert page.inner_text("#failures") == "5"
    methods = page.locator("#table-methods tbody tr").all_inner_texts()
    assert methods[:3] == ["Passkey autofill\t14", "Passkey button\t6", "Identifier first\t4"]
    # Each chart sits beside its table on a wide screen.
    beside = page.evaluate(
        """() => [...document.querySelectorAll('.figure')].every(card => {
            const chart = card.querySelector('.chart').getBoundingClientRect();
            const table = card.querySelector('table').getBoundingClientRect();
            return table.left >= chart.right && table.top < chart.bottom;
        })"""
    )
    assert beside is True
    # The chart shows the table's figures.
    drawn = page.evaluate(
        "window.Chart.getChart(document.querySelector('#card-methods canvas')).data"
        ".datasets[0].data"
    )
    assert drawn == [14, 6, 4, 0, 5, 1]
    # The charts follow the colour scheme when it changes (a canvas does not follow the CSS).
    for scheme, text in (("dark", "#e8ebf2"), ("light", "#1b2231")):
        page.emulate_media(color_scheme=scheme)
        page.wait_for_function("text => window.Chart.defaults.color === text", arg=text)
    charts_drawn(tab)
    shoot(tab, "adoption")

    page.select_option("#pool", web)
    page.click("#apply-period")
    page.wait_for_url(f"**/adoption?pool={web}*")
    charts_drawn(tab)
    assert page.inner_text("#users-signed-in") == "3"
    assert page.locator("#table-offers tbody tr").all_inner_texts() == [
        "Shown\t0", "Accepted\t0", "Declined\t0"
    ]  # fmt: skip
    shoot(tab, "adoption-pool")

    csv = page.request.get(server.url + (page.get_attribute("#csv-providers", "href") or ""))
    assert csv.status == 200
    assert csv.text().splitlines()[0] == "name,count"
    assert problems == []
