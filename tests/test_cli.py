"""The newcomer's path: `latchkey serve --dev` on an empty SQLite file, then a passkey round trip
over real HTTP; and the tenant commands."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from latchkey.cli import main
from latchkey.testing.authenticator import SoftAuthenticator


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start(db: Path, port: int) -> subprocess.Popen[str]:
    env = {**os.environ, "LATCHKEY_DATABASE_URL": f"sqlite:///{db}"}
    return subprocess.Popen(
        [sys.executable, "-m", "latchkey.cli", "serve", "--dev", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _wait_healthy(port: int, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert process.poll() is None, "the server exited early"
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError("the server did not become healthy")


def _stop(process: subprocess.Popen[str]) -> str:
    process.terminate()
    output, _ = process.communicate(timeout=15)
    return output


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[int, Path, subprocess.Popen[str]]]:
    port, db = _free_port(), tmp_path / "latchkey.db"
    process = _start(db, port)
    try:
        _wait_healthy(port, process)
        yield port, db, process
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_first_start_makes_a_local_tenant_and_a_round_trip_works(
    served: tuple[int, Path, subprocess.Popen[str]],
) -> None:
    port, db, process = served
    base = f"http://127.0.0.1:{port}/api/v1/tenants"
    origin = f"http://localhost:{port}"
    authenticator = SoftAuthenticator()
    # The tenant the first start made, as the CLI lists it; its secret is in the server's output.
    listed = subprocess.run(
        [sys.executable, "-m", "latchkey.cli", "tenant", "list", "--json"],
        env={**os.environ, "LATCHKEY_DATABASE_URL": f"sqlite:///{db}"},
        capture_output=True,
        text=True,
        check=True,
    )
    [tenant] = json.loads(listed.stdout)
    assert tenant["rp_id"] == "localhost"
    assert tenant["origins"] == [origin]
    output = _stop(process)
    secret = re.search(r"secret key: (\S+)", output)
    assert secret, output
    assert tenant["id"] in output
    [notice] = [line for line in output.splitlines() if "development mode" in line]
    assert "not for production" in notice
    # Restart: the same database, no new tenant, no secret printed again.
    again = _start(db, port)
    try:
        _wait_healthy(port, again)
        auth = (secret.group(1), "")
        with httpx.Client(base_url=f"{base}/{tenant['id']}", auth=auth) as http:
            begun = http.post("/registration/options", json={"userId": "newcomer"}).json()
            created = authenticator.create(begun["options"], origin=origin)
            done = http.post(
                "/registration/verify",
                json={"challengeId": begun["challengeId"], "credential": created},
            )
            assert done.status_code == 200, done.text
            begun = http.post("/authentication/options", json={}).json()
            assertion = authenticator.get(begun["options"], origin=origin)
            signed_in = http.post(
                "/authentication/verify",
                json={"challengeId": begun["challengeId"], "credential": assertion},
            )
            assert signed_in.status_code == 200, signed_in.text
            assert signed_in.json()["user"]["userId"] == "newcomer"
    finally:
        second_output = _stop(again)
    assert "secret key" not in second_output


def test_tenant_commands(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = ["--database-url", f"sqlite:///{tmp_path / 'cli.db'}"]
    assert (
        main(
            [
                "tenant",
                "create",
                "--rp-id",
                "example.com",
                "--origin",
                "https://example.com",
                "--user-verification",
                "required",
                "--algorithm",
                "ES256",
                "--json",
                *url,
            ]
        )
        == 0
    )
    created = json.loads(capsys.readouterr().out)
    assert created["secret_key"].startswith("lk_secret_")
    assert created["policy"]["user_verification"] == "required"
    assert created["policy"]["algorithms"] == ["ES256"]
    assert (
        main(
            [
                "tenant",
                "update",
                created["id"],
                "--origin",
                "https://example.com",
                "--origin",
                "https://app.example.com",
                "--no-allow-synced",
                "--json",
                *url,
            ]
        )
        == 0
    )
    updated = json.loads(capsys.readouterr().out)
    assert updated["origins"] == ["https://example.com", "https://app.example.com"]
    assert updated["policy"]["allow_synced"] is False
    assert "secret_key" not in updated
    assert main(["tenant", "show", created["id"], *url]) == 0
    assert "app.example.com" in capsys.readouterr().out
    assert main(["tenant", "list", *url]) == 0
    assert created["id"] in capsys.readouterr().out
    assert updated["anonymous_actions"] == "any not tracked"
    narrowing = ["tenant", "anonymous-actions", created["id"], "login", "--json", *url]
    assert main(narrowing) == 0
    assert json.loads(capsys.readouterr().out)["anonymous_actions"] == ["login"]
    assert main(["tenant", "anonymous-actions", created["id"], "--any", "--json", *url]) == 0
    assert json.loads(capsys.readouterr().out)["anonymous_actions"] == "any not tracked"
    assert main(["tenant", "anonymous-actions", created["id"], "bad name", *url]) == 2
    assert "the action must be" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--rp-id", "example.com", "--origin", "https://evil.com"], "neither the RP ID"),
        (["--rp-id", "example.com", "--origin", "http://example.com"], "http://"),
        (["--rp-id", "EXAMPLE.com", "--origin", "https://example.com"], "lower-case"),
        (
            ["--rp-id", "example.com", "--origin", "https://example.com", "--timeout-ms", "5"],
            "timeout_ms",
        ),
    ],
)
def test_bad_tenant_configuration_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], says: str
) -> None:
    url = ["--database-url", f"sqlite:///{tmp_path / 'cli.db'}"]
    assert main(["tenant", "create", *args, *url]) == 2
    assert says in capsys.readouterr().err


def test_unknown_tenant_and_bad_environment(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    url = ["--database-url", f"sqlite:///{tmp_path / 'cli.db'}"]
    assert main(["tenant", "show", "nope", *url]) == 2
    assert "no tenant 'nope'" in capsys.readouterr().err
    monkeypatch.setenv("LATCHKEY_PORT", "eighty")
    assert main(["migrate", *url]) == 2
    assert "LATCHKEY_PORT" in capsys.readouterr().err
