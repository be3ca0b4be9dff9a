"""The newcomer's path: `latchkey serve --dev` on an empty SQLite file, then a passkey round trip
over real HTTP; and the tenant commands."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import threading
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


class Server:
    """`latchkey serve --dev` in a child process, its output read as it comes (a full pipe
    would stall the server). It is ready once it says it listens on its port: its own
    statement, where an answer on the port could come from another test's server that took the
    port first (a free port is free only until someone binds it)."""

    # How long a start may take on a loaded machine; readiness usually comes in seconds.
    START_LIMIT = 120.0

    def __init__(self, db: Path, port: int) -> None:
        self.port = port
        env = {
            **os.environ,
            "LATCHKEY_DATABASE_URL": f"sqlite:///{db}",
            "LATCHKEY_LOG_LEVEL": "info",  # uvicorn's "running on" line is the readiness signal
        }
        self.process = subprocess.Popen(
            [sys.executable, "-m", "latchkey.cli", "serve", "--dev", "--port", str(port)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: list[str] = []
        self.listening = threading.Event()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line)
            if f"running on http://127.0.0.1:{self.port}" in line:
                self.listening.set()
        self.listening.set()  # the output ended: the process is gone

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def ready(self) -> bool:
        """Wait until it listens (True) or has exited (False: a taken port, say)."""
        if not self.listening.wait(self.START_LIMIT):
            raise AssertionError(f"the server did not start listening:\n{self.output}")
        return self.process.poll() is None and any(
            f"running on http://127.0.0.1:{self.port}" in line for line in self.lines
        )

    def stop(self) -> str:
        """Stop it (killed if it does not stop in time); everything it printed."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.reader.join(timeout=10)
        return self.output


def _serve(db: Path, *, fresh: bool) -> Server:
    """A listening server on a free port. A port taken between choosing it and binding it
    makes the server exit at once: then another port (and, for a first start, whose tenant's
    origin names the port, a fresh database)."""
    for _ in range(5):
        if fresh:
            db.unlink(missing_ok=True)
        server = Server(db, _free_port())
        if server.ready():
            assert (
                httpx.get(f"http://127.0.0.1:{server.port}/health", timeout=30).status_code == 200
            )
            return server
        output = server.stop()
        assert "already in use" in output, output
    raise AssertionError("no free port was kept long enough to bind it")


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Server]:
    server = _serve(tmp_path / "latchkey.db", fresh=True)
    try:
        yield server
    finally:
        server.stop()


def test_first_start_makes_a_local_tenant_and_a_round_trip_works(
    served: Server, tmp_path: Path
) -> None:
    db = tmp_path / "latchkey.db"
    origin = f"http://localhost:{served.port}"
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
    output = served.stop()
    secret = re.search(r"secret key: (\S+)", output)
    assert secret, output
    assert tenant["id"] in output
    [notice] = [line for line in output.splitlines() if "development mode" in line]
    assert "not for production" in notice
    # Restart: the same database, no new tenant, no secret printed again. (It may listen on
    # another port: the tenant's origin is what the browser reports, not where it connects.)
    again = _serve(db, fresh=False)
    base = f"http://127.0.0.1:{again.port}/api/v1/tenants"
    try:
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
        second_output = again.stop()
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
