"""Development and production modes, through the real `latchkey` executable: production refuses
to start without a master key and makes nothing for the operator (no key file, no tenant);
`--dev` keeps the conveniences and says so in one line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.live_server import free_port, production_env, running

LATCHKEY = str(Path(sys.executable).with_name("latchkey"))


def env_without_key(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LATCHKEY_")}
    return env | {"LATCHKEY_DATABASE_URL": f"sqlite:///{tmp_path / 'latchkey.db'}"} | extra


def run(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [LATCHKEY, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=60
    )


def test_production_serve_refuses_without_a_master_key(tmp_path: Path) -> None:
    done = run(["serve", "--port", str(free_port())], tmp_path, env_without_key(tmp_path))
    assert done.returncode == 2
    assert done.stdout == ""
    [line] = done.stderr.splitlines()
    assert line.startswith("latchkey: error: LATCHKEY_MASTER_KEY is not set")
    assert 'python -c "import secrets; print(secrets.token_urlsafe(32))"' in line
    assert "latchkey serve --dev" in line
    # Nothing made: no key file, no database.
    assert list(tmp_path.iterdir()) == []


def test_production_serve_ignores_a_development_key_file(tmp_path: Path) -> None:
    # A key file left by `serve --dev` in the working directory is not a production key.
    (tmp_path / "latchkey.master-key").write_text(os.environ["LATCHKEY_MASTER_KEY"] + "\n")
    done = run(["serve", "--port", str(free_port())], tmp_path, env_without_key(tmp_path))
    assert done.returncode == 2
    assert "LATCHKEY_MASTER_KEY is not set" in done.stderr


def test_production_serve_reads_a_named_key_file_and_never_makes_one(tmp_path: Path) -> None:
    missing = tmp_path / "secrets" / "master-key"
    env = env_without_key(tmp_path, LATCHKEY_MASTER_KEY_FILE=str(missing))
    done = run(["serve", "--port", str(free_port())], tmp_path, env)
    assert done.returncode == 2
    assert f"LATCHKEY_MASTER_KEY_FILE '{missing}' does not exist" in done.stderr
    assert not missing.exists()


def test_production_serve_refuses_without_a_public_url(tmp_path: Path) -> None:
    env = env_without_key(tmp_path, LATCHKEY_MASTER_KEY=os.environ["LATCHKEY_MASTER_KEY"])
    done = run(["serve", "--port", str(free_port())], tmp_path, env)
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.splitlines() == [
        "latchkey: error: LATCHKEY_PUBLIC_URL is not set: production mode needs the https"
        " address users and apps reach Latchkey at (issuer, links in mails, portal), e.g."
        " LATCHKEY_PUBLIC_URL=https://auth.example.com; for local development run"
        " `latchkey serve --dev`"
    ]
    # Refused before anything was made: no database, no key file.
    assert list(tmp_path.iterdir()) == []


def test_production_serve_makes_no_tenant_and_no_key_file(tmp_path: Path) -> None:
    port = free_port()
    env = env_without_key(
        tmp_path, LATCHKEY_MASTER_KEY=os.environ["LATCHKEY_MASTER_KEY"], **production_env(port)
    )
    log = tmp_path / "serve.log"
    with running([LATCHKEY, "serve", "--port", str(port)], port, env, log, cwd=tmp_path):
        pass
    output = log.read_text()
    assert "secret key" not in output
    assert "development mode" not in output
    listed = run(["tenant", "list", "--json"], tmp_path, env)
    assert listed.returncode == 0, listed.stderr
    assert json.loads(listed.stdout) == []
    assert sorted(p.name for p in tmp_path.iterdir() if "master-key" in p.name) == []


def test_dev_serve_makes_a_key_file_and_says_so_in_one_line(tmp_path: Path) -> None:
    env = env_without_key(tmp_path)
    port = free_port()
    log = tmp_path / "serve.log"
    command = [LATCHKEY, "serve", "--dev", "--port", str(port)]
    with running(command, port, env, log, cwd=tmp_path):
        pass
    output = log.read_text()
    [notice] = [line for line in output.splitlines() if "development mode" in line]
    assert "./latchkey.master-key" in notice
    assert "not for production" in notice
    assert "secret key: lk_secret_" in output
    assert oct((tmp_path / "latchkey.master-key").stat().st_mode & 0o777) == "0o600"


@pytest.mark.parametrize(
    "url", ["http://auth.example.com", "http://localhost.example.com", "ftp://localhost"]
)
def test_public_url_must_be_https_except_localhost(tmp_path: Path, url: str) -> None:
    env = env_without_key(tmp_path, LATCHKEY_PUBLIC_URL=url)
    done = run(["serve", "--dev", "--port", str(free_port())], tmp_path, env)
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        f"latchkey: error: LATCHKEY_PUBLIC_URL {url!r} must be an https:// URL (http only for"
        " localhost), e.g. https://auth.example.com"
    ]
    assert list(tmp_path.iterdir()) == []
