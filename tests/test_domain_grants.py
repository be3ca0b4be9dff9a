"""Domains are granted, not taken: only a global operator points a tenant at a host or changes
its RP ID; the service's own public host (the portal's RP ID) is reserved; a domain serves
nothing until its owner proves it with a DNS TXT record or an HTTP file, checked by
`latchkey tenant verify-domain`."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient
from sqlalchemy import Engine, create_engine, text

from latchkey.cli import main
from latchkey.errors import ConfigError
from latchkey.models import Tenant
from latchkey.runtime import Runtime
from latchkey.services import domains, tenants
from latchkey.services.operators import GlobalOperatorRequired, Operator
from latchkey.store import migrate
from latchkey.store import tenants as tenant_store
from tests.domain_proof import prove
from tests.support.admin import World, make_world
from tests.support.portal import new_operator

DOMAIN = "login.example.com"
HOST = {"host": DOMAIN}
SCOPED = Operator(id="op", name="tenant operator", tenant_id="t", method="token")


@pytest.fixture
def tenant(rt: Runtime) -> Tenant:
    made, _ = tenants.create(rt, rp_id="example.com", origins=["https://example.com"])
    return made


@pytest.fixture
def world(rt: Runtime, client: TestClient, tenant_and_secret: tuple[Tenant, str]) -> World:
    return make_world(rt, client, tenant_and_secret)


def _status(rt: Runtime, tenant_id: str) -> domains.DomainStatus:
    [status] = domains.statuses(rt, tenant_id)
    return status


def test_a_tenant_operator_cannot_assign_a_domain_or_change_the_rp_id(world: World) -> None:
    path = f"/tenants/{world.a.id}"
    taken = world.call("PATCH", path, world.a_op, json={"domains": ["id.localhost"]})
    assert (taken.status_code, taken.json()["error"]) == (403, "global_operator_required")
    moved = world.call("PATCH", path, world.a_op, json={"rpId": "elsewhere.localhost"})
    assert (moved.status_code, moved.json()["error"]) == (403, "global_operator_required")
    assert tenants.domains(world.rt, world.a.id) == []
    assert tenants.get(world.rt, world.a.id).rp_id == "localhost"
    # Their other settings still save, the RP ID and domains sent back unchanged included.
    same = {"rpId": "localhost", "domains": [], "rpName": "Renamed"}
    kept = world.call("PATCH", path, world.a_op, json=same)
    assert kept.status_code == 200, kept.text
    # A global operator may do both.
    granted = world.call("PATCH", path, world.root, json={"domains": ["id.localhost"]})
    assert granted.status_code == 200, granted.text
    assert granted.json()["domains"] == ["id.localhost"]
    [proof] = granted.json()["domainProof"]
    status = _status(world.rt, world.a.id)
    assert proof == {
        "domain": "id.localhost",
        "proved": False,
        "verifiedAt": None,
        "txtRecord": "_latchkey-challenge.id.localhost",
        "txtValue": status.value,
        "fileUrl": "https://id.localhost/.well-known/latchkey-domain-verification.txt",
    }
    prove(world.rt, world.a.id, "id.localhost")
    shown = world.call("GET", path, world.a_op).json()["domainProof"]
    assert [(p["domain"], p["proved"]) for p in shown] == [("id.localhost", True)]


def test_the_service_rules_hold_for_every_caller(rt: Runtime, tenant: Tenant) -> None:
    with pytest.raises(GlobalOperatorRequired):
        tenants.set_domains(rt, tenant.id, [DOMAIN], by=SCOPED)
    with pytest.raises(GlobalOperatorRequired):
        tenants.update(rt, tenant.id, rp_id="login.example.com", by=SCOPED)
    tenants.set_domains(rt, tenant.id, [DOMAIN])
    # A new RP ID must still cover the tenant's domains.
    with pytest.raises(ConfigError, match="not under the new RP ID"):
        tenants.update(rt, tenant.id, rp_id="shop.example.com")


def test_the_public_host_is_reserved(rt: Runtime) -> None:
    tenant, _ = tenants.create(rt, rp_id="localhost", origins=["http://localhost:3000"])
    assert rt.public_url == "http://localhost:8000"
    with pytest.raises(ConfigError, match="the service's own public host"):
        tenants.set_domains(rt, tenant.id, ["LOCALHOST."])
    with pytest.raises(ConfigError, match="the service's own public host"):
        tenants.create(
            rt, rp_id="localhost", origins=["http://localhost:3000"], domains=["localhost"]
        )


def test_an_unproved_domain_serves_nothing(client: TestClient, rt: Runtime, tenant: Tenant) -> None:
    tenants.set_domains(rt, tenant.id, [DOMAIN])
    unproved = client.get("/.well-known/openid-configuration", headers=HOST)
    assert unproved.status_code == 404
    assert unproved.json() == {
        "error": "tenant_not_found",
        "error_description": f"no tenant serves the domain {DOMAIN!r}",
    }
    assert client.get("/.well-known/assetlinks.json", headers=HOST).status_code == 404
    prove(rt, tenant.id, DOMAIN)
    served = client.get("/.well-known/openid-configuration", headers=HOST)
    assert served.status_code == 200
    assert served.json()["issuer"] == f"https://{DOMAIN}/"
    # Listing it again keeps the proof; a new domain starts unproved with its own token.
    tenants.set_domains(rt, tenant.id, [DOMAIN, "id.example.com"])
    proved = {s.domain: s.verified_at is not None for s in domains.statuses(rt, tenant.id)}
    assert proved == {DOMAIN: True, "id.example.com": False}


def test_dns_proof(rt: Runtime, tenant: Tenant) -> None:
    tenants.set_domains(rt, tenant.id, [DOMAIN])
    status = _status(rt, tenant.id)
    asked: list[str] = []

    def wrong(name: str) -> list[str]:
        asked.append(name)
        return ["latchkey-domain-verification=someone-else", "v=spf1 -all"]

    with pytest.raises(domains.DomainNotProved) as refused:
        domains.verify(rt, tenant.id, DOMAIN, method="dns", resolver=wrong)
    assert asked == [f"_latchkey-challenge.{DOMAIN}"]
    assert status.value in refused.value.message
    assert f"_latchkey-challenge.{DOMAIN}" in refused.value.message
    assert "someone-else" in refused.value.message
    assert _status(rt, tenant.id).verified_at is None
    right = {status.record_name: ["v=spf1 -all", f" {status.value} "]}
    proved, how = domains.verify(rt, tenant.id, DOMAIN, resolver=lambda n: right.get(n, []))
    assert how == "dns"
    assert proved.verified_at is not None
    assert _status(rt, tenant.id).verified_at is not None


class _Files(BaseHTTPRequestHandler):
    served: dict[str, tuple[int, bytes]] = {}

    def do_GET(self) -> None:
        status, body = self.served.get(self.path, (404, b"not here"))
        self.send_response(status)
        if status == 302:
            self.send_header("location", "/elsewhere")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def web_server() -> Iterator[str]:
    """A local web server standing in for the domain's (127.0.0.1 only)."""
    server = HTTPServer(("127.0.0.1", 0), _Files)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        _Files.served = {}


def test_http_proof(rt: Runtime, tenant: Tenant, web_server: str) -> None:
    tenants.set_domains(rt, tenant.id, [DOMAIN])
    status = _status(rt, tenant.id)

    def verify() -> tuple[domains.DomainStatus, str]:
        return domains.verify(rt, tenant.id, DOMAIN, method="http", base_url=web_server)

    with pytest.raises(domains.DomainNotProved, match="HTTP 404"):
        verify()
    # A redirect is not followed: the file must be on the domain itself.
    _Files.served = {domains.FILE_PATH: (302, b"")}
    with pytest.raises(domains.DomainNotProved, match="HTTP 302"):
        verify()
    _Files.served = {domains.FILE_PATH: (200, b"latchkey-domain-verification=wrong\n")}
    with pytest.raises(domains.DomainNotProved, match="does not hold it"):
        verify()
    assert _status(rt, tenant.id).verified_at is None
    _Files.served = {domains.FILE_PATH: (200, status.value.encode() + b"\n")}
    proved, how = verify()
    assert how == "http"
    assert proved.verified_at is not None


def test_verify_domain_command(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    db = ["--database-url", f"sqlite:///{tmp_path / 'cli.db'}"]
    made = ["tenant", "create", "--rp-id", "example.com", "--origin", "https://example.com"]
    assert main([*made, "--domain", DOMAIN, "--json", *db]) == 0
    created = json.loads(capsys.readouterr().out)
    [owed] = created["unproved_domains"]
    assert owed["txt_record"]["name"] == f"_latchkey-challenge.{DOMAIN}"
    assert owed["file"]["url"] == f"https://{DOMAIN}/.well-known/latchkey-domain-verification.txt"
    value = owed["txt_record"]["value"]
    # `tenant show` says what to publish, in words.
    assert main(["tenant", "show", created["id"], *db]) == 0
    assert f"domain {DOMAIN} serves nothing until proved" in capsys.readouterr().out

    published: dict[str, list[str]] = {}
    monkeypatch.setattr(domains, "dns_txt", lambda name: published.get(name, []))
    monkeypatch.setattr(domains, "fetch_https", lambda url: (None, "HTTP 404"))
    verify = ["tenant", "verify-domain", created["id"], DOMAIN, *db]
    assert main(verify) == 2
    message = capsys.readouterr().err
    assert f"domain {DOMAIN!r} is not proved: publish {value!r}" in message
    assert "no TXT record" in message
    assert "HTTP 404" in message

    published[f"_latchkey-challenge.{DOMAIN}"] = [value]
    assert main(verify) == 0
    assert f"domain {DOMAIN} is proved (dns)" in capsys.readouterr().out
    assert main(["tenant", "show", created["id"], "--json", *db]) == 0
    assert "unproved_domains" not in json.loads(capsys.readouterr().out)


def test_domains_claimed_before_the_upgrade_must_be_proved(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'old.db'}")
    migrate.upgrade(engine, "0017")
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO tenants (id, name, rp_id, rp_name, origins, related_origins, policy,"
                " created_at, updated_at) VALUES ('t1', 'T', 'example.com', 'T', '[]', '[]',"
                " '{}', '2026-01-01 00:00:00', '2026-01-01 00:00:00')"
            )
        )
        conn.execute(text("INSERT INTO tenant_domains VALUES ('login.example.com', 't1')"))
    migrate.upgrade(engine)
    with engine.connect() as conn:
        row = conn.execute(text("SELECT verification_token, verified_at FROM tenant_domains")).one()
    assert len(row.verification_token) >= 32
    assert row.verified_at is None
    engine.dispose()


def test_portal_domains_are_a_global_operators_form(
    rt: Runtime, client: TestClient, tenant_and_secret: tuple[Tenant, str]
) -> None:
    tenant = tenant_and_secret[0]
    settings = f"/portal/t/{tenant.id}/settings"
    mine = new_operator(rt, client, tenant.id)
    assert 'id="tenant-domains"' not in mine.page(settings).text
    forged = mine.form(f"/portal/t/{tenant.id}/domains", domains="id.localhost")
    assert forged.status_code == 403
    assert "only a global operator" in forged.text
    assert tenants.domains(rt, tenant.id) == []

    root = new_operator(rt, client)
    saved = root.form(f"/portal/t/{tenant.id}/domains", domains="id.localhost\n")
    assert saved.status_code == 303, saved.text
    assert tenants.domains(rt, tenant.id) == ["id.localhost"]
    shown = root.page(settings).text
    assert "serves nothing until proved" in shown
    assert "_latchkey-challenge.id.localhost" in shown
    prove(rt, tenant.id, "id.localhost")
    assert "proved, serves this tenant" in root.page(settings).text


def test_dns_lookup_with_dnspython(monkeypatch: pytest.MonkeyPatch) -> None:
    """The TXT lookup asks dnspython for TXT at the name, joins a record's character-strings
    (a long value is split in 255-byte chunks), and reads no record as none."""
    import dns.exception
    import dns.resolver

    class Record:
        def __init__(self, *chunks: bytes) -> None:
            self.strings = chunks

    answers: dict[str, Any] = {
        "_latchkey-challenge.a.example.com": [Record(b"latchkey-domain-", b"verification=x")],
        "_latchkey-challenge.b.example.com": dns.resolver.NXDOMAIN(),
        "_latchkey-challenge.c.example.com": dns.resolver.NoAnswer(),
        "_latchkey-challenge.d.example.com": dns.exception.Timeout(),
    }
    asked: list[tuple[str, str]] = []

    def resolve(name: str, kind: str, lifetime: float) -> Any:
        asked.append((name, kind))
        found = answers[name]
        if isinstance(found, Exception):
            raise found
        return found

    monkeypatch.setattr(dns.resolver, "resolve", resolve)
    txt = domains.dns_txt
    assert txt("_latchkey-challenge.a.example.com") == ["latchkey-domain-verification=x"]
    assert txt("_latchkey-challenge.b.example.com") == []
    assert txt("_latchkey-challenge.c.example.com") == []
    with pytest.raises(domains.DomainNotProved, match="timed out"):
        txt("_latchkey-challenge.d.example.com")
    assert {kind for _, kind in asked} == {"TXT"}


def _blocked_on(engine: Engine, xid: str) -> bool:
    """A PostgreSQL session waits for transaction `xid` to end (a unique key it must check)."""
    waiting = text(
        "SELECT count(*) FROM pg_locks"
        " WHERE locktype = 'transactionid' AND transactionid::text = :xid AND NOT granted"
    )
    with engine.connect() as conn:
        return bool(conn.execute(waiting, {"xid": xid}).scalar_one())


def test_a_domain_assigned_to_two_tenants_at_once_goes_to_one(world: World) -> None:
    """Two global operators give the same domain to two tenants at once. The tenant whose
    transaction commits first has it; the other is answered as if it had come second (on
    PostgreSQL its check passed before the first committed, and its insert failed on the key),
    and nothing of its change is written."""
    path = f"/tenants/{world.a.id}"
    kept = world.call("PATCH", path, world.root, json={"domains": ["keep.localhost"]})
    assert kept.status_code == 200, kept.text
    engine = world.rt.engine
    answers: list[Any] = []
    # A rename, and "a." written before the clash: neither may stay.
    change = {"rpName": "Renamed", "domains": ["a.localhost", "id.localhost"]}
    with engine.connect() as first:
        # Tenant B's assignment, in flight: written, not committed.
        with first.begin():
            assert tenant_store.set_domains(first, world.b.id, ["id.localhost"]) is None
            racing = threading.Thread(
                target=lambda: answers.append(world.call("PATCH", path, world.root, json=change))
            )
            racing.start()
            if engine.dialect.name == "postgresql":
                xid_query = text(
                    "SELECT transactionid::text FROM pg_locks WHERE pid = pg_backend_pid()"
                    " AND locktype = 'transactionid' AND granted"
                )
                xid = first.execute(xid_query).scalar_one()
                deadline = time.monotonic() + 30
                while not _blocked_on(engine, xid):
                    assert time.monotonic() < deadline, "A's insert never waited for B's"
                    time.sleep(0.02)
            # On SQLite the second transaction cannot begin before the first ends (BEGIN
            # IMMEDIATE), so it always sees B's row in its check: the same answer is expected.
        racing.join(timeout=60)
    assert not racing.is_alive()
    [lost] = answers
    assert (lost.status_code, lost.json()["error"]) == (400, "invalid_configuration"), lost.text
    assert lost.json()["message"] == "domain 'id.localhost' already belongs to another tenant"
    assert tenants.domains(world.rt, world.a.id) == ["keep.localhost"]  # no partial write
    with engine.connect() as conn:
        stored = tenant_store.get(conn, world.a.id)
    assert stored is not None
    assert stored.rp_name == world.a.rp_name
    assert tenants.domains(world.rt, world.b.id) == ["id.localhost"]
    # The same answer as an assignment that comes second in turn.
    again = world.call("PATCH", path, world.root, json=change)
    assert (again.status_code, again.json()) == (400, lost.json())
