"""Operators' changes (services/operator_changes.py), on SQLite and PostgreSQL: each is refused
with its exact error to an operator who may not make it, writing nothing; a change and its
`admin.*` event commit together or not at all; the CLI's changes are events too, naming the
account that typed them."""

from __future__ import annotations

import getpass
import json
from typing import Any

import pytest
from sqlalchemy import func, select

from latchkey import __version__
from latchkey.cli import main
from latchkey.errors import LatchkeyError
from latchkey.models import Tenant
from latchkey.runtime import RequestMeta, Runtime
from latchkey.services import apps, operator_changes, operators, tenants
from latchkey.services.operator_changes import Who
from latchkey.services.operators import Operator, accounts
from latchkey.store.engine import make_engine
from latchkey.store.tables import operator_enrolments, operator_tokens
from latchkey.store.tables import tenants as tenant_table
from tests.support.admin import admin_events
from tests.web_parties import ORIGIN

META = RequestMeta(ip="203.0.113.9", user_agent="test")


def rows(rt: Runtime, table: Any) -> int:
    with rt.read() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def refused(exc: pytest.ExceptionInfo[LatchkeyError]) -> tuple[str, str]:
    return exc.value.code, exc.value.message


@pytest.fixture
def two(rt: Runtime) -> tuple[Tenant, Tenant]:
    a, _ = tenants.create(rt, rp_id="localhost", rp_name="A", origins=[ORIGIN])
    b, _ = tenants.create(rt, rp_id="localhost", rp_name="B", origins=[ORIGIN])
    return a, b


def scoped_to(tenant: Tenant) -> Who:
    return Who(Operator(id="op-a", name="a-ops", tenant_id=tenant.id), META)


ROOT = Who(Operator(id="op-root", name="root", tenant_id=None), META)


def test_a_tenant_operator_is_refused_everything_outside_their_tenant(
    rt: Runtime, two: tuple[Tenant, Tenant]
) -> None:
    a, b = two
    who = scoped_to(a)
    tenants_before = rows(rt, tenant_table)
    other = f"no tenant {b.id!r}"
    attempts = [
        lambda: operator_changes.update_tenant(rt, who, b.id, name="taken"),
        lambda: operator_changes.set_event_retention(rt, who, b.id, 1),
        lambda: operator_changes.create_app(
            rt, who, b.id, name="x", app_type="native", confidential=False
        ),
        lambda: operator_changes.create_api_key(rt, who, b.id),
        lambda: operator_changes.rotate_signing_key(rt, who, b.id, "ES256"),
        lambda: operator_changes.configure_pool(rt, who, b.id, "default", {"bot_check": True}),
        lambda: operator_changes.create_endpoint(rt, who, b.id, url="https://hooks.example"),
        lambda: operator_changes.create_token(rt, who, name="x", tenant_id=b.id),
    ]
    for attempt in attempts:
        with pytest.raises(LatchkeyError) as exc:
            attempt()
        assert refused(exc) == ("tenant_not_found", other)

    global_only = [
        (
            lambda: operator_changes.create_tenant(rt, who, rp_id="example.com", origins=[]),
            "only a global operator token may create tenants",
        ),
        (
            lambda: operator_changes.update_tenant(rt, who, a.id, rp_id="example.com"),
            "only a global operator token may change a tenant's RP ID (it invalidates all the"
            " tenant's passkeys)",
        ),
        (
            lambda: operator_changes.update_tenant(rt, who, a.id, name="x", domains=["localhost"]),
            "only a global operator token may assign domains to a tenant",
        ),
        (
            lambda: operator_changes.create_token(rt, who, name="x", tenant_id=None),
            "only a global operator token may make global operator tokens",
        ),
        (
            lambda: operator_changes.create_operator(rt, who, name="x", tenant_id=None, hours=1),
            "only a global operator token may make global operators",
        ),
    ]
    for attempt, message in global_only:
        with pytest.raises(LatchkeyError) as exc:
            attempt()
        assert refused(exc) == ("global_operator_required", message)

    # Another tenant's records by their own ids are unknown, as unknown ids are.
    app, _ = apps.create(rt, b.id, name="b-app", app_type="native", confidential=False)
    with pytest.raises(LatchkeyError) as exc:
        operator_changes.delete_app(rt, who, a.id, app.client_id)
    assert refused(exc) == ("app_not_found", f"no app {app.client_id!r}")
    with pytest.raises(LatchkeyError) as exc:
        operator_changes.app_of(rt, who, app.client_id)
    assert refused(exc) == ("app_not_found", f"no app {app.client_id!r}")
    token, _ = operators.create_token(rt, name="b-ops", tenant_id=b.id)
    with pytest.raises(LatchkeyError) as exc:
        operator_changes.revoke_token(rt, who, token.id)
    assert refused(exc) == ("operator_token_not_found", f"no operator token {token.id!r}")
    link = accounts.create(rt, name="b-person", tenant_id=b.id)
    links = rows(rt, operator_enrolments)
    with pytest.raises(LatchkeyError) as exc:
        operator_changes.enrolment_link(rt, who, link.operator.id, hours=1)
    assert refused(exc) == ("operator_not_found", f"no operator {link.operator.id!r}")

    assert rows(rt, operator_enrolments) == links
    assert rows(rt, tenant_table) == tenants_before
    assert rows(rt, operator_tokens) == 1
    assert tenants.get(rt, b.id).name == "B"
    assert tenants.get(rt, a.id).rp_id == "localhost"
    assert apps.get(rt, app.client_id).name == "b-app"
    assert admin_events(rt, a.id) == admin_events(rt, b.id) == []


def test_a_change_and_its_event_commit_together_or_not_at_all(
    rt: Runtime, two: tuple[Tenant, Tenant]
) -> None:
    a, _ = two
    # The rename is written first, then the domains are refused: neither stays, nor the event.
    with pytest.raises(LatchkeyError) as exc:
        operator_changes.update_tenant(rt, ROOT, a.id, name="Renamed", domains=["evil.test"])
    assert refused(exc) == (
        "invalid_configuration",
        "domain 'evil.test' is not the RP ID 'localhost' or a subdomain of it",
    )
    assert tenants.get(rt, a.id).name == "A"
    assert admin_events(rt, a.id) == []

    changed = operator_changes.update_tenant(rt, scoped_to(a), a.id, name="Renamed")
    assert changed.name == "Renamed"
    (event,) = admin_events(rt, a.id)
    assert event.kind == "admin.tenant.updated"
    assert (event.ip, event.user_agent) == ("203.0.113.9", "test")
    assert event.detail["actor"] == {
        "type": "token",
        "id": "op-a",
        "name": "a-ops",
        "tenantId": a.id,
    }
    assert event.detail["target"] == {"tenantId": a.id}
    assert (event.detail["before"]["name"], event.detail["after"]["name"]) == ("A", "Renamed")


def test_cli_changes_are_audited_naming_the_local_account(
    database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    def ok(*args: str) -> Any:
        assert main([*args, "--json", "--database-url", database_url]) == 0
        return json.loads(capsys.readouterr().out)

    made = ok("tenant", "create", "--rp-id", "localhost", "--origin", ORIGIN)
    tenant_id = made["id"]
    ok("tenant", "update", tenant_id, "--name", "Renamed")
    app = ok("app", "create", tenant_id, "--name", "ios")
    ok("webhook", "create", tenant_id, "--url", "https://hooks.example.com/in")
    token = ok("admin", "token", "create", "--tenant", tenant_id)
    retention = ["events", "retention", tenant_id, "--days", "30"]
    assert main([*retention, "--database-url", database_url]) == 0
    # Refused: nothing written, not even the event.
    bad = ["tenant", "update", tenant_id, "--origin", "https://evil.test", "--database-url"]
    assert main([*bad, database_url]) == 2
    assert "neither the RP ID" in capsys.readouterr().err

    engine = make_engine(database_url)
    try:
        found = admin_events(Runtime(engine=engine), tenant_id)
    finally:
        engine.dispose()
    assert [e.kind for e in found] == [
        "admin.tenant.created",
        "admin.tenant.updated",
        "admin.app.created",
        "admin.webhook_endpoint.created",
        "admin.operator_token.created",
        "admin.event_retention.updated",
    ]
    user = getpass.getuser()
    for event in found:
        assert event.detail["actor"] == {"type": "cli", "id": user, "name": user, "tenantId": None}
        assert event.user_agent == f"latchkey-cli/{__version__}"
        assert event.ip is None
    assert found[2].detail["target"] == {"clientId": app["client_id"]}
    assert found[4].detail["after"]["createdBy"] == f"cli:{user}"
    assert token["created_by"] == f"cli:{user}"
