"""The access log and the portal link, through the real `latchkey` executable: one line per
request in development (or when LATCHKEY_ACCESS_LOG=on), none by default in production, never a
query string; `latchkey admin create` prints its link on LATCHKEY_PUBLIC_URL or --url."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import httpx

from tests.live_server import free_port, production_env, running

LATCHKEY = str(Path(sys.executable).with_name("latchkey"))


def env_for(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LATCHKEY_")}
    env["LATCHKEY_MASTER_KEY"] = os.environ["LATCHKEY_MASTER_KEY"]
    return env | {"LATCHKEY_DATABASE_URL": f"sqlite:///{tmp_path / 'latchkey.db'}"} | extra


def served_log(tmp_path: Path, *flags: str, **env: str) -> str:
    """Start `latchkey serve`, make three requests, stop it; its whole output."""
    port = free_port()
    log = tmp_path / "serve.log"
    command = [LATCHKEY, "serve", *flags, "--port", str(port)]
    env = production_env(port) | env
    with running(command, port, env_for(tmp_path, **env), log, cwd=tmp_path):
        base = f"http://127.0.0.1:{port}"
        assert httpx.get(f"{base}/openapi.json").status_code == 200
        secret_query = {"client_id": "app", "state": "state-SECRET", "login_hint": "ada@x.org"}
        httpx.get(f"{base}/t/no-such-tenant/authorize", params=secret_query)
        httpx.get(f"{base}/nowhere", params={"token": "token-SECRET"})
    return log.read_text()


def access_lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if "latchkey.access" in line]


def test_development_logs_each_request_without_query_strings(tmp_path: Path) -> None:
    output = served_log(tmp_path, "--dev")
    probes = [line for line in access_lines(output) if '"GET /health"' in line]
    assert re.search(r'127\.0\.0\.1 "GET /health" 200 \d+\.\d ms$', probes[0])
    lines = [line for line in access_lines(output) if line not in probes]
    assert len(lines) == 3
    assert re.search(r'"GET /openapi\.json" 200 ', lines[0])
    assert re.search(r'"GET /t/no-such-tenant/authorize\?…" 404 ', lines[1])
    assert re.search(r'"GET /nowhere\?…" 404 ', lines[2])
    assert "SECRET" not in output
    assert "ada@x.org" not in output
    [notice] = [line for line in output.splitlines() if "development mode" in line]
    assert "access log on" in notice


def test_production_logs_no_requests_unless_asked(tmp_path: Path) -> None:
    assert access_lines(served_log(tmp_path)) == []
    asked = served_log(tmp_path, LATCHKEY_ACCESS_LOG="on")
    assert len([line for line in access_lines(asked) if "/health" not in line]) == 3
    assert "SECRET" not in asked


def test_development_log_can_be_turned_off(tmp_path: Path) -> None:
    output = served_log(tmp_path, "--dev", LATCHKEY_ACCESS_LOG="off")
    assert access_lines(output) == []
    assert "access log on" not in output


def admin_create(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [LATCHKEY, "admin", "create", "--name", "ada@example.com", *args],
        cwd=tmp_path,
        env=env_for(tmp_path, **env),
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_admin_create_prints_a_link_on_the_public_url(tmp_path: Path) -> None:
    made = admin_create(tmp_path, LATCHKEY_PUBLIC_URL="https://auth.example.com")
    assert made.returncode == 0, made.stderr
    assert re.search(r"^https://auth\.example\.com/portal/enrol#token=\S+$", made.stdout, re.M)
    assert made.stderr == ""
    given = admin_create(tmp_path, "--url", "https://id.example.org/")
    assert re.search(r"^https://id\.example\.org/portal/enrol#token=\S+$", given.stdout, re.M)
    local = admin_create(tmp_path, LATCHKEY_PORT="8123")
    assert re.search(r"^http://localhost:8123/portal/enrol#token=\S+$", local.stdout, re.M)
    assert "set LATCHKEY_PUBLIC_URL (or --url)" in local.stderr


def test_admin_create_refuses_a_plain_http_url(tmp_path: Path) -> None:
    refused = admin_create(tmp_path, "--url", "http://portal.example.com")
    assert refused.returncode == 2
    assert refused.stderr.splitlines() == [
        "latchkey: error: --url 'http://portal.example.com' must be an https:// URL (http only"
        " for localhost), e.g. https://auth.example.com"
    ]
    assert refused.stdout == ""
