"""`latchkey admin token create|list|revoke` and `latchkey events retention|prune`: the same
services as the management API, on a real database file."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from litestar.testing import TestClient

from latchkey.api.app import create_app
from latchkey.cli import main
from latchkey.config import Settings
from latchkey.runtime import RequestMeta, Runtime
from latchkey.services import events, tenants
from latchkey.store import migrate
from latchkey.store.engine import make_engine


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def db(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'cli.db'}"


def _rt(db: str) -> Runtime:
    engine = make_engine(db)
    migrate.upgrade(engine)
    return Runtime(engine=engine)


def test_tokens_made_listed_used_and_revoked(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    rt = _rt(db)
    tenant, _ = tenants.create(rt, rp_id="localhost", origins=["http://localhost:8000"])
    code, out, _ = _run(capsys, "admin", "token", "create", "--name", "ops", "--database-url", db)
    assert code == 0
    assert "Latchkey stores only its hash" in out
    secret = next(line.split(": ")[1] for line in out.splitlines() if "secret:" in line)
    assert secret.startswith("lk_op_")
    argv = ["admin", "token", "create", "--tenant", tenant.id, "--json", "--database-url", db]
    scoped = json.loads(_run(capsys, *argv)[1])
    assert scoped["tenant_id"] == tenant.id

    listed = json.loads(_run(capsys, "admin", "token", "list", "--json", "--database-url", db)[1])
    assert {t["name"] for t in listed} == {"ops", "operator"}
    assert secret not in str(listed)
    text = _run(capsys, "admin", "token", "list", "--tenant", tenant.id, "--database-url", db)[1]
    assert scoped["id"] in text
    assert "global" not in text

    with TestClient(create_app(rt, Settings(mail_mode="off"))) as client:
        me = client.get("/admin/v1/me", headers={"authorization": f"Bearer {secret}"})
        assert me.status_code == 200
        assert me.json()["tenantId"] is None
        token_id = me.json()["id"]
        code, out, _ = _run(capsys, "admin", "token", "revoke", token_id, "--database-url", db)
        assert code == 0
        assert "revoked_at" in out
        me = client.get("/admin/v1/me", headers={"authorization": f"Bearer {secret}"})
        assert me.status_code == 401


def test_unknown_tenant_and_token_are_clear_errors(
    db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["admin", "token", "create", "--tenant", "nope", "--database-url", db]
    code, _, err = _run(capsys, *argv)
    assert code == 2
    assert "no tenant 'nope'" in err
    code, _, err = _run(capsys, "admin", "token", "revoke", "nope", "--database-url", db)
    assert code == 2
    assert "no operator token" in err


def test_retention_and_prune(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    rt = _rt(db)
    tenant, _ = tenants.create(rt, rp_id="localhost", origins=["http://localhost:8000"])
    old = datetime.now(UTC) - timedelta(days=30)
    for clock in (lambda: old, lambda: datetime.now(UTC)):
        rt.clock = clock
        with rt.transaction() as conn:
            meta = RequestMeta()
            events.record(conn, rt, tenant_id=tenant.id, kind="passkey.registration", meta=meta)
    argv = ["events", "retention", tenant.id, "--days", "0", "--database-url", db]
    assert _run(capsys, *argv)[0] == 2
    argv[3:5] = ["--days", "7"]
    code, out, _ = _run(capsys, *argv)
    assert code == 0
    assert "7 days" in out
    code, out, _ = _run(capsys, "events", "prune", "--database-url", db)
    assert code == 0
    assert f"{tenant.id}: 1 events pruned" in out
    # What stays: the recent event, and the retention change itself (the refused one wrote none).
    kept = [e.kind for e in events.recent(rt, tenant.id)]
    assert sorted(kept) == ["admin.event_retention.updated", "passkey.registration"]
    code, out, _ = _run(capsys, "events", "retention", tenant.id, "--forever", "--database-url", db)
    assert code == 0
    assert "for ever" in out
