"""The operator portal over HTTP on SQLite and PostgreSQL: enrolment links (single use,
expiring), passkey sign-in, session expiry and sign-out, CSRF (forms, /admin/v1 with the
cookie, cross-origin), the CSP on every page, a tenant-scoped operator confined to their
tenant, and hostile input refused with a clear reason and nothing written."""

from __future__ import annotations

import html
import json
import re
import secrets
import threading
from typing import Any

import pytest
from litestar.testing import TestClient
from sqlalchemy import func, select

from latchkey.errors import LatchkeyError
from latchkey.models import Tenant
from latchkey.runtime import RequestMeta, Runtime
from latchkey.services import pools, tenants
from latchkey.services.operators import accounts, ceremonies, sessions
from latchkey.store.tables import events, operator_passkeys, portal_sessions, webhook_endpoints
from latchkey.store.tables import tenants as tenant_table
from latchkey.testing.authenticator import SoftAuthenticator
from tests.support.portal import HTML, PORTAL, Operator, csrf_of, enrol, new_operator, sign_in
from tests.support.portal import link_token as _token
from tests.web_parties import ORIGIN, Backend, Browser


@pytest.fixture
def root(rt: Runtime, client: TestClient) -> Operator:
    return new_operator(rt, client)


def count(rt: Runtime, table: Any, *where: Any) -> int:
    with rt.read() as conn:
        return int(conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one())


def test_enrolment_link_is_single_use(rt: Runtime, client: TestClient) -> None:
    link = accounts.create(rt, name="first@example.com")
    assert link.url.startswith(f"{PORTAL}/portal/enrol#token=")
    token = _token(link)
    done = enrol(client, token, SoftAuthenticator())
    assert done.status_code == 200, done.text
    cookie = done.cookies.get(sessions.COOKIE)
    assert cookie
    header = done.headers["set-cookie"].lower()
    assert "httponly" in header
    assert "samesite=strict" in header
    # The link is spent: neither new options nor a second passkey.
    again = enrol(client, token, SoftAuthenticator())
    assert again.status_code == 401
    assert again.json()["error"] == "invalid_enrolment_link"
    assert count(rt, operator_passkeys) == 1
    # Only its hash is stored.
    with rt.read() as conn:
        stored = conn.execute(select(operator_passkeys.c.credential_id)).all()
    assert token.encode() not in repr(stored).encode()


def test_enrolment_link_expires_even_between_its_steps(
    rt: Runtime, client: TestClient, clock: Any
) -> None:
    stale = _token(accounts.create(rt, name="late@example.com", hours=1))
    clock.advance(hours=1, seconds=1)
    assert enrol(client, stale, SoftAuthenticator()).json()["error"] == "invalid_enrolment_link"

    token = _token(accounts.create(rt, name="slow@example.com", hours=1))
    begun = client.post("/portal/enrol/options", json={"token": token}).json()
    clock.advance(minutes=61)
    created = SoftAuthenticator().create(begun["options"], origin=PORTAL)
    body = {"token": token, "challengeId": begun["challengeId"], "credential": created}
    late = client.post("/portal/enrol/finish", json=body)
    assert late.status_code == 401
    assert count(rt, operator_passkeys) == 0


def test_enrolment_needs_user_verification_and_the_portal_origin(
    rt: Runtime, client: TestClient
) -> None:
    token = _token(accounts.create(rt, name="uv@example.com"))
    for kwargs in ({"user_verified": False}, {"origin": ORIGIN}):
        begun = client.post("/portal/enrol/options", json={"token": token}).json()
        created = SoftAuthenticator().create(begun["options"], **({"origin": PORTAL} | kwargs))
        body = {"token": token, "challengeId": begun["challengeId"], "credential": created}
        refused = client.post("/portal/enrol/finish", json=body)
        assert refused.status_code == 400, refused.text
    # A refused passkey does not spend the link.
    assert enrol(client, token, SoftAuthenticator()).status_code == 200


def test_sign_in_with_the_passkey_then_sign_out(rt: Runtime, client: TestClient) -> None:
    me = new_operator(rt, client)
    client.cookies.clear()
    assert me.page("/portal").status_code == 303  # to /portal/login
    assert sign_in(client, me.authenticator, origin=ORIGIN).status_code == 400
    # A passkey for this host that is no operator's (a tenant user's, say).
    stranger = SoftAuthenticator()
    options = {"rp": {"id": "localhost"}, "user": {"id": "dXNlcg"}, "challenge": "AAAA",
               "pubKeyCredParams": [{"type": "public-key", "alg": -7}]}  # fmt: skip
    stranger.create(options, origin=PORTAL)
    unknown = sign_in(client, stranger)
    assert unknown.status_code == 401
    assert unknown.json()["error"] == "operator_sign_in_failed"
    signed = sign_in(client, me.authenticator)
    assert signed.status_code == 200, signed.text
    cookie = signed.cookies[sessions.COOKIE]
    page = me.page("/portal")
    assert page.status_code == 200
    me.csrf = csrf_of(page.text)
    assert client.get("/admin/v1/me").json()["method"] == "portal"

    out = me.form("/portal/logout")
    assert out.status_code == 303
    # The old cookie is dead on the server, not only forgotten by the browser.
    client.cookies.set(sessions.COOKIE, cookie)
    assert me.page("/portal").status_code == 303
    gone = client.get("/admin/v1/tenants")
    assert gone.status_code == 401
    assert gone.json()["error"] == "invalid_portal_session"


def test_a_count_that_does_not_rise_is_refused_and_flagged_as_for_tenants(
    rt: Runtime, client: TestClient
) -> None:
    """The portal signs in through the tenants' ceremony: a lower count, or the same non-zero
    one, is refused with the tenants' error and flags the passkey as possibly cloned (as
    test_api_hostile's tenant passkey), with no session; a passkey that keeps no count signs in
    again and again."""
    me = new_operator(rt, client)
    client.cookies.clear()
    assert sign_in(client, me.authenticator, sign_count=5).status_code == 200
    sessions_before = count(rt, portal_sessions)
    for regressed in (3, 5):
        refused = sign_in(client, me.authenticator, sign_count=regressed)
        assert refused.status_code == 400, refused.text
        assert refused.json()["error"] == "sign_count_regression"
        assert sessions.COOKIE not in refused.cookies
    assert count(rt, portal_sessions) == sessions_before
    with rt.read() as conn:
        row = conn.execute(
            select(operator_passkeys.c.sign_count, operator_passkeys.c.possible_clone)
        )
        assert tuple(row.one()) == (5, True)

    synced = SoftAuthenticator(counter_step=0, backup_eligible=True, backup_state=True)
    assert (
        enrol(client, _token(accounts.create(rt, name="synced@example.com")), synced).status_code
        == 200
    )
    client.cookies.clear()
    for _ in range(2):
        assert sign_in(client, synced).status_code == 200
    with rt.read() as conn:
        flags = conn.execute(
            select(operator_passkeys.c.possible_clone).where(operator_passkeys.c.sign_count == 0)
        ).scalars()
        assert list(flags) == [False]


def test_a_count_race_between_two_operator_assertions_has_one_winner(
    rt: Runtime, client: TestClient
) -> None:
    """Two assertions with the same new count at once: the database's sign-count rule lets one
    record, the other is refused and flags the passkey, as a tenant's (test_sealed_challenges)."""
    me = new_operator(rt, client)
    bodies = []
    for _ in range(2):
        begun = ceremonies.login_options(rt)
        bodies.append(
            (begun.challenge_id, me.authenticator.get(begun.options, origin=PORTAL, sign_count=7))
        )
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def finish(challenge_id: str, made: dict[str, Any]) -> None:
        barrier.wait()
        try:
            ceremonies.login_finish(rt, challenge_id, made, RequestMeta())
            outcomes.append("ok")
        except LatchkeyError as error:
            outcomes.append(error.code)

    threads = [threading.Thread(target=finish, args=body) for body in bodies]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["ok", "sign_count_regression"]
    with rt.read() as conn:
        row = conn.execute(
            select(operator_passkeys.c.sign_count, operator_passkeys.c.possible_clone)
        )
        assert tuple(row.one()) == (7, True)


def test_session_expires(rt: Runtime, client: TestClient, clock: Any, root: Operator) -> None:
    assert root.page("/portal").status_code == 200
    clock.advance(hours=8, seconds=1)
    assert root.page("/portal").headers.get("location") == "/portal/login"
    assert client.get("/admin/v1/tenants").status_code == 401


def _user_with_passkey(
    client: TestClient, tenant_and_secret: tuple[Tenant, str]
) -> tuple[Browser, str]:
    tenant, secret = tenant_and_secret
    backend, browser = Backend(client, secret), Browser(client, tenant.id)
    tracked = backend.track("alice", "add-passkey", email="alice@example.com")
    assert browser.sign_up(tracked["token"]).status_code == 200
    return browser, tracked["token"]


def _alice(root: Operator, tenant_id: str) -> tuple[str, str]:
    found = root.client.get(f"/admin/v1/tenants/{tenant_id}/users", params={"q": "alice"}).json()
    user_id = found[0]["id"]
    detail = root.client.get(f"/admin/v1/tenants/{tenant_id}/users/{user_id}").json()
    return user_id, detail["passkeys"][0]["id"]


def test_csrf_is_required_for_every_change(
    rt: Runtime, client: TestClient, root: Operator, tenant_and_secret: tuple[Tenant, str]
) -> None:
    tenant = tenant_and_secret[0]
    _user_with_passkey(client, tenant_and_secret)
    user_id, passkey_id = _alice(root, tenant.id)
    revoke = f"/portal/t/{tenant.id}/users/{user_id}/passkeys/{passkey_id}/revoke"
    for token in ("", "wrong", "é" * 43, root.csrf + "x"):
        refused = client.post(revoke, data={"csrf": token}, headers=HTML)
        assert refused.status_code == 403
        assert "CSRF" in refused.text
    # The management API with the cookie: a change needs the header, a read does not.
    api = f"/admin/v1/tenants/{tenant.id}/users/{user_id}/passkeys/{passkey_id}"
    assert client.delete(api).json()["error"] == "csrf_failed"
    bad_origin = {"x-csrf-token": root.csrf, "origin": "https://evil.example"}
    assert client.delete(api, headers=bad_origin).status_code == 403
    assert count(rt, events, events.c.kind == "admin.passkey.revoked") == 0
    # Cross-origin forms are refused even with the right token.
    evil = {"origin": "https://evil.example"}
    crossed = client.post(revoke, data={"csrf": root.csrf}, headers=evil)
    assert crossed.status_code == 403
    done = client.post(
        revoke, data={"csrf": root.csrf}, headers={**HTML, "origin": PORTAL}, follow_redirects=False
    )
    assert done.status_code == 303
    assert done.headers["location"].endswith("done=passkey_revoked")
    with rt.read() as conn:
        event = conn.execute(select(events).where(events.c.kind == "admin.passkey.revoked")).one()
    assert event.detail["actor"]["type"] == "portal"
    assert event.detail["actor"]["name"] == "ops@example.com"


JSON_STEPS = {"/portal/enrol/options", "/portal/enrol/finish", "/portal/login/options",
              "/portal/login/finish", "/portal/validate/origins"}  # fmt: skip


def test_every_portal_form_refuses_a_missing_csrf_token(
    rt: Runtime, client: TestClient, root: Operator, tenant_and_secret: tuple[Tenant, str]
) -> None:
    from latchkey.api.portal import router

    tenant = tenant_and_secret[0]
    before = (count(rt, events), count(rt, tenant_table))
    posts = [r.path for r in router.routes if "POST" in getattr(r, "methods", ())]
    forms = [p for p in posts if p not in JSON_STEPS]
    assert len(forms) >= 15
    for path in forms:
        url = re.sub(r"\{(\w+):str\}", lambda m: tenant.id if m[1] == "tenant_id" else "x", path)
        fields = {"name": "n", "rp_id": "example.com", "origins": "https://example.com",
                  "url": "https://example.com/hook", "settings": "{}"}  # fmt: skip
        refused = client.post(url, data=fields, headers=HTML, follow_redirects=False)
        assert refused.status_code == 403, (url, refused.status_code)
    assert (count(rt, events), count(rt, tenant_table)) == before
    assert root.page("/portal").status_code == 200  # signing out needs the token too


def test_revoked_passkey_no_longer_signs_in(
    rt: Runtime, client: TestClient, root: Operator, tenant_and_secret: tuple[Tenant, str]
) -> None:
    tenant = tenant_and_secret[0]
    browser, _ = _user_with_passkey(client, tenant_and_secret)
    assert browser.sign_in().status_code == 200
    user_id, passkey_id = _alice(root, tenant.id)
    revoked = root.form(f"/portal/t/{tenant.id}/users/{user_id}/passkeys/{passkey_id}/revoke")
    assert revoked.status_code == 303
    failed = browser.sign_in()
    assert failed.status_code == 404
    assert failed.json()["errorCode"] == "credential_not_found"
    page = root.page(f"/portal/t/{tenant.id}/events?outcome=failure&kind=passkey.authentication")
    assert page.text.count('class="event"') == 1


PAGES = (
    "", "/settings", "/apps", "/pools", "/users", "/events", "/api-keys", "/signing-keys",
    "/webhooks", "/adoption",
)  # fmt: skip


def test_every_portal_page_has_a_strict_csp_and_no_inline_code(
    client: TestClient, root: Operator, tenant_and_secret: tuple[Tenant, str]
) -> None:
    tenant = tenant_and_secret[0]
    _user_with_passkey(client, tenant_and_secret)
    user_id, _ = _alice(root, tenant.id)
    event_id = client.get(f"/admin/v1/tenants/{tenant.id}/events").json()["events"][0]["id"]
    paths = ["/portal", "/portal/login", "/portal/enrol"]
    paths += [f"/portal/t/{tenant.id}{p}" for p in PAGES]
    paths += [f"/portal/t/{tenant.id}/users/{user_id}", f"/portal/t/{tenant.id}/events/{event_id}"]
    for path in paths:
        page = root.page(path)
        assert page.status_code == 200, path
        csp = page.headers["content-security-policy"]
        for rule in ("script-src 'self';", "style-src 'self';", "frame-ancestors 'none'"):
            assert rule in csp, path
        assert "unsafe" not in csp, path
        assert page.headers["x-frame-options"] == "DENY"
        assert re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page.text) is None, path
        assert re.search(r"<style|\sstyle=|\son[a-z]+=", page.text) is None, path
        token = re.search(r'name="csrf-token" content="([^"]*)"', page.text)
        for form in re.findall(r"<form[^>]*method=\"post\"[^>]*>.*?</form>", page.text, re.S):
            # Every form carries the session's token itself, not merely a field named csrf.
            assert token is not None, path
            assert f'name="csrf" value="{token[1]}"' in form, (path, form[:200])


def test_a_tenant_operator_sees_only_their_tenant(
    rt: Runtime, client: TestClient, tenant_and_secret: tuple[Tenant, str]
) -> None:
    mine = tenant_and_secret[0]
    other, _ = tenants.create(rt, rp_id="localhost", rp_name="Other", origins=[ORIGIN])
    me = new_operator(rt, client, mine.id)
    assert me.page("/portal").headers["location"] == f"/portal/t/{mine.id}"
    listed = me.page(f"/portal/t/{mine.id}").text
    assert mine.id in listed
    assert other.id not in listed
    assert [t["id"] for t in client.get("/admin/v1/tenants").json()] == [mine.id]
    for path in PAGES:
        assert me.page(f"/portal/t/{other.id}{path}").status_code == 404, path
    refused = me.form(f"/portal/t/{other.id}/settings", rp_id="localhost", origins=ORIGIN,
                      name="taken")  # fmt: skip
    assert refused.status_code == 404
    assert f"no tenant &#39;{other.id}&#39;" in refused.text
    assert tenants.get(rt, other.id).name != "taken"
    # Nor may they make tenants, or change what only a global operator may.
    made = me.form("/portal/tenants", rp_id="example.com", origins="https://example.com")
    assert made.status_code == 403
    assert "only a global operator token may create tenants" in made.text
    assert count(rt, tenant_table) == 2
    domains = me.form(f"/portal/t/{mine.id}/domains", domains="localhost")
    assert domains.status_code == 403
    assert "only a global operator token may assign domains to a tenant" in domains.text
    assert count(rt, events, events.c.kind.startswith("admin.")) == 0


def test_hostile_input_is_refused_with_its_reason_and_nothing_written(
    rt: Runtime, client: TestClient, root: Operator, tenant_and_secret: tuple[Tenant, str]
) -> None:
    tenant = tenant_and_secret[0]
    before = count(rt, events)
    bad_tenants = [
        ({"rp_id": "example.com", "origins": "https://evil.test"}, "neither the RP ID"),
        ({"rp_id": "example.com", "origins": "http://example.com"}, "https"),
        ({"rp_id": "https://example.com", "origins": "https://example.com"}, "bare domain"),
        ({"rp_id": "example.com", "origins": ""}, "at least one"),
        ({"rp_id": "example.com", "origins": "https://example.com", "name": "x" * 5000}, "longer"),
        ({"rp_id": "example.com", "origins": "https://example.com\n" * 60}, "50"),
    ]
    for fields, reason in bad_tenants:
        refused = root.form("/portal/tenants", **fields)
        assert refused.status_code in (400, 422), (fields, refused.status_code)
        assert reason in refused.text, (reason, refused.text[-2000:])
        assert 'role="alert"' in refused.text
    assert count(rt, tenant_table) == 1

    base = f"/portal/t/{tenant.id}"
    refused = root.form(base + "/settings", rp_id="localhost", origins="https://evil.test",
                        name="Renamed")  # fmt: skip
    assert refused.status_code == 400
    assert tenants.get(rt, tenant.id).name != "Renamed"
    assert root.form(base + "/retention", retention_days="-3").status_code == 400
    assert root.form(base + "/pools/default", settings="{not json").status_code == 400
    assert root.form(base + "/pools/default", settings="[1]").status_code == 400
    assert root.form(base + "/webhooks", url="ftp://x", event_types="").status_code == 400
    assert count(rt, webhook_endpoints) == 0
    assert root.form(base + "/signing-keys/rotate", alg="HS256").status_code == 400
    assert root.page(base + "/events?since=yesterday").status_code == 400
    assert root.page(base + "/users/" + "x" * 40).status_code == 404
    assert count(rt, events) == before


def test_origins_are_checked_as_typed_by_the_cli_rules(client: TestClient, root: Operator) -> None:
    check = "/portal/validate/origins"
    body = {"rpId": "example.com", "origins": ["https://example.com", "https://evil.test"]}
    assert client.post(check, json=body).json()["error"] == "csrf_failed"
    headers = {"x-csrf-token": root.csrf}
    answer = client.post(check, json=body, headers=headers).json()
    assert answer["valid"] is False
    assert "neither the RP ID 'example.com' nor a subdomain" in answer["problems"][0]
    good = {"rpId": "example.com", "origins": ["https://example.com", "https://a.example.com"]}
    assert client.post(check, json=good, headers=headers).json() == {"valid": True, "problems": []}
    client.cookies.clear()
    assert client.post(check, json=good, headers=headers).status_code == 401


def test_admin_create_prints_a_working_link(
    tmp_path: Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from latchkey.api.app import create_app
    from latchkey.cli import main
    from latchkey.config import Settings
    from latchkey.store import migrate
    from latchkey.store.engine import make_engine

    db = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("LATCHKEY_PUBLIC_URL", PORTAL)
    assert main(["admin", "create", "--name", "ada@example.com", "--database-url", db]) == 0
    out = capsys.readouterr().out
    url = next(line for line in out.splitlines() if "#token=" in line)
    assert url.startswith(f"{PORTAL}/portal/enrol#token=")
    argv = ["admin", "create", "--name", "x", "--tenant", "nope", "--database-url", db]
    assert main(argv) != 0  # an unknown tenant: refused, nothing made
    capsys.readouterr()
    assert main(["admin", "list", "--json", "--database-url", db]) == 0
    operators = json.loads(capsys.readouterr().out)
    assert [o["name"] for o in operators] == ["ada@example.com"]

    engine = make_engine(db)
    migrate.upgrade(engine)
    # A served runtime always has a master key (modes.master_key): the portal's ceremony
    # challenges are sealed with it, as tenants' are.
    served = Runtime(engine=engine, master_key=secrets.token_bytes(32))
    with TestClient(create_app(served, Settings(mail_mode="off"))) as client:
        token = url.split("#token=")[1]
        assert enrol(client, token, SoftAuthenticator()).status_code == 200
        assert client.get("/admin/v1/me").json()["name"] == "ada@example.com"
    engine.dispose()


def field_errors(page: str) -> dict[str, str]:
    """Each field's reason as the page shows it under the field (its element id: reason)."""
    found = re.findall(r'<p class="field-error" id="([^"]+)-error">([^<]*)</p>', page)
    return {name: html.unescape(reason) for name, reason in found}


def test_pool_settings_form_saves_every_field(
    rt: Runtime, root: Operator, tenant_and_secret: tuple[Tenant, str]
) -> None:
    tenant = tenant_and_secret[0]
    pool = pools.get(rt, tenant.id, "default")
    shown = root.page(f"/portal/t/{tenant.id}/pools").text
    assert f'id="max_passkeys-{pool.id}" name="max_passkeys" value="10"' in shown
    assert 'name="settings"' not in shown  # a form, not a JSON text box
    saved = root.form(
        f"/portal/t/{tenant.id}/pools/{pool.id}", display_name="Shop", self_registration="on",
        password="on", max_passkeys="5", bot_check_complexity="20000",
        **{"branding.name": "Shop Inc", "branding.logo_url": "https://shop.example/logo.svg",
           "branding.primary_color": "#AA3300"},
        email_sender="hello@shop.example", email_verification="required", default_locale="de",
    )  # fmt: skip
    assert saved.status_code == 303, saved.text[-800:]
    settings = pools.get(rt, tenant.id, "default").settings
    assert (settings.display_name, settings.max_passkeys, settings.bot_check_complexity) == (
        "Shop",
        5,
        20_000,
    )
    # An unticked box is off: the form names every setting, so nothing keeps an old value.
    assert (settings.self_registration, settings.password, settings.bot_check) == (
        True, True, False
    )  # fmt: skip
    assert settings.branding == pools.Branding("Shop Inc", "https://shop.example/logo.svg",
                                               "#aa3300")  # fmt: skip
    assert (settings.email_sender, settings.email_verification, settings.default_locale) == (
        "hello@shop.example", "required", "de"
    )  # fmt: skip


def test_pool_settings_form_shows_each_fields_reason_and_keeps_what_was_typed(
    rt: Runtime, root: Operator, tenant_and_secret: tuple[Tenant, str]
) -> None:
    tenant = tenant_and_secret[0]
    pool = pools.get(rt, tenant.id, "default")
    before, written = pool.settings, count(rt, events)
    path = f"/portal/t/{tenant.id}/pools/{pool.id}"
    refused = root.form(
        path, max_passkeys="12abc", bot_check_complexity="", email_sender="nobody",
        email_verification="sometimes", default_locale="en", **{"branding.primary_color": "red"},
    )  # fmt: skip
    assert refused.status_code == 400
    assert field_errors(refused.text) == {
        f"max_passkeys-{pool.id}": "max_passkeys must be 1 to 100",
        f"bot_check_complexity-{pool.id}": "bot_check_complexity must be 1000 to 10000000",
        f"email_sender-{pool.id}": "email_sender is not an e-mail address: An email address"
        " must have an @-sign.",
        f"email_verification-{pool.id}": "email_verification must be one of optional, required,"
        " off",
        f"branding-primary_color-{pool.id}": "branding.primary_color must look like #1a2b3c",
    }
    assert "Not saved: fix the 5 problems shown below." in refused.text
    assert f'id="max_passkeys-{pool.id}" name="max_passkeys" value="12abc"' in refused.text
    assert 'aria-invalid="true"' in refused.text
    assert "<option selected>sometimes</option>" in refused.text
    # A field the form does not have is refused by name, not dropped.
    unknown = root.form(path, max_passkeys="10", bot_check_complexity="50000", settings="{}")
    assert unknown.status_code == 400
    assert field_errors(unknown.text) == {f"settings-{pool.id}": "unknown pool settings: settings"}
    assert pools.get(rt, tenant.id, "default").settings == before
    assert count(rt, events) == written


def test_a_refused_tenant_lists_every_bad_origin_where_they_are_checked_as_typed(
    rt: Runtime, root: Operator
) -> None:
    before = count(rt, tenant_table)
    typed = (
        "https://evil.test\nhttps://shop.example.com\nhttp://example.com\nhttps://shop.example.com"
    )
    refused = root.form("/portal/tenants", rp_id="example.com", origins=typed)
    assert refused.status_code == 400
    listed = re.search(r'<ul id="origin-check"[^>]*>(.*?)</ul>', refused.text, re.S)
    assert listed is not None
    assert [html.unescape(p) for p in re.findall(r"<li>(.*?)</li>", listed.group(1))] == [
        "origin 'https://evil.test': host 'evil.test' is neither the RP ID 'example.com' nor a"
        " subdomain of it (an origin on another domain is a related origin: --related-origin)",
        "origin 'http://example.com' uses http://, allowed only for localhost; use https://",
        "origin 'https://shop.example.com' is listed twice",
    ]
    assert "Not saved: fix the 3 problems shown below." in refused.text
    assert f"{html.escape(typed)}</textarea>" in refused.text
    assert count(rt, tenant_table) == before


def test_the_event_log_names_users_as_the_app_knows_them(
    client: TestClient, root: Operator, tenant_and_secret: tuple[Tenant, str]
) -> None:
    tenant = tenant_and_secret[0]
    _user_with_passkey(client, tenant_and_secret)
    user_id, _ = _alice(root, tenant.id)
    base = f"/portal/t/{tenant.id}/events"
    cells = re.findall(r'<td class="event-user">(.*?)</td>', root.page(base).text, re.S)
    shown = f'<a href="/portal/t/{tenant.id}/users/{user_id}">alice@example.com</a>'
    alice = [cell for cell in cells if cell.strip()]
    assert len(alice) == 1  # the passkey's registration
    for cell in alice:
        assert shown in cell
        assert """<code title="The app's user id">alice</code>""" in cell
        assert user_id[:8] + "…" not in cell  # no truncated internal id
    # Found by the app's user id, as shown, or by Latchkey's; the export follows the filter.
    for given in ("alice", user_id):
        page = root.page(f"{base}?user_id={given}").text
        assert page.count('class="event"') == 1, given
        assert f"userId={user_id}" in page
    assert root.page(f"{base}?user_id=bob").text.count('class="event"') == 0
