"""What newcomers get wrong on the first start, through the real `latchkey` executable: each is
one line naming the value and what to do, exit code 2, never a traceback."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from tests.live_server import free_port
from tests.support.database import POSTGRES_URL

LATCHKEY = str(Path(sys.executable).with_name("latchkey"))
# What production needs besides the master key (conftest sets it), so the start gets that far.
PRODUCTION = {"LATCHKEY_PUBLIC_URL": "http://localhost:8000", "LATCHKEY_MAIL_MODE": "off"}


def refused(args: list[str], cwd: Path, **env: str) -> str:
    """Run latchkey; it must fail with exit code 2 and one line on stderr, which is returned."""
    done = subprocess.run(
        [LATCHKEY, *args],
        cwd=cwd,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr
    [line] = done.stderr.splitlines()
    assert line.startswith("latchkey: error: ")
    return line.removeprefix("latchkey: error: ")


def test_unreachable_database(tmp_path: Path) -> None:
    url = f"postgresql://latchkey:hunter2@127.0.0.1:{free_port()}/latchkey"
    said = refused(["migrate"], tmp_path, LATCHKEY_DATABASE_URL=url)
    shown = url.replace("hunter2", "***")
    assert said == (
        f"cannot reach the database at {shown} (connection refused): start the database server"
        " there or fix LATCHKEY_DATABASE_URL (or --database-url)"
    )


def test_unknown_database_host(tmp_path: Path) -> None:
    url = "postgresql://latchkey@no-such-host.invalid/latchkey"
    said = refused(["serve", "--database-url", url], tmp_path, **PRODUCTION)
    assert said.startswith(f"cannot reach the database at {url}: there is no host")


@pytest.mark.postgres
def test_missing_role_and_database() -> None:
    if not POSTGRES_URL:
        pytest.skip("set LATCHKEY_TEST_POSTGRES_URL")
    cwd = Path.cwd()
    no_role = make_url(POSTGRES_URL).set(username="no_such_role_lk", password=None)
    said = refused(["migrate", "--database-url", no_role.render_as_string()], cwd)
    assert "has no role 'no_such_role_lk': create it (createuser no_such_role_lk)" in said
    no_db = make_url(POSTGRES_URL).set(database="no_such_database_lk")
    said = refused(["migrate", "--database-url", no_db.render_as_string()], cwd)
    assert "has no database 'no_such_database_lk': create it (createdb no_such_database_lk)" in said


def test_sqlite_file_in_a_missing_folder(tmp_path: Path) -> None:
    path = tmp_path / "data" / "latchkey.db"
    said = refused(["serve", "--dev", "--database-url", f"sqlite:///{path}"], tmp_path)
    assert said == (
        f"the folder '{path.parent}' of the SQLite database '{path}' does not exist: create it"
        f" (mkdir -p {path.parent}) or fix LATCHKEY_DATABASE_URL (or --database-url)"
    )
    assert sorted(tmp_path.iterdir()) == []


@pytest.fixture
def taken_port() -> Iterator[int]:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        yield int(listener.getsockname()[1])


def test_serve_on_a_port_in_use(tmp_path: Path, taken_port: int) -> None:
    database = f"sqlite:///{tmp_path / 'latchkey.db'}"
    args = ["serve", "--port", str(taken_port), "--database-url", database]
    said = refused(args, tmp_path, **PRODUCTION)
    assert said == (
        f"port {taken_port} on 127.0.0.1 is already in use (another Latchkey or another program"
        " listens there): stop it or choose another port with --port or LATCHKEY_PORT"
    )


def test_demo_names_the_port_in_use(tmp_path: Path, taken_port: int) -> None:
    database = f"sqlite:///{tmp_path / 'latchkey.db'}"
    ports = ["--port", str(free_port()), "--login-port", str(free_port())]
    ports += ["--app-port", str(taken_port), "--portal-port", str(free_port())]
    said = refused(["demo", *ports, "--database-url", database], tmp_path)
    assert said.startswith(f"port {taken_port} on 127.0.0.1 is already in use")
    assert said.endswith("choose another port with --app-port")


@pytest.mark.parametrize("rp_id", ["com", "co.uk", "github.io"])
def test_public_suffix_rp_ids_are_refused(tmp_path: Path, rp_id: str) -> None:
    database = f"sqlite:///{tmp_path / 'latchkey.db'}"
    args = ["tenant", "create", "--rp-id", rp_id, "--origin", f"https://{rp_id}"]
    said = refused([*args, "--database-url", database], tmp_path)
    assert said == (
        f"RP ID {rp_id!r} is a public suffix (anyone can register names under it): use your own"
        f" domain, such as example.{rp_id}"
    )
