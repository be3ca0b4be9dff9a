"""A real `latchkey serve` process on a free port, for tests that need HTTP over a socket
(browsers, the SDKs, the vendor's unmodified packages)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

# Every test request comes from 127.0.0.1: limits fit for a crowd, unless a test sets its own.
TEST_LIMITS = {
    "LATCHKEY_CHALLENGE_RATE_LIMIT": "100000/60",
    "LATCHKEY_TENANT_RATE_LIMIT": "100000/60",
}


def production_env(port: int) -> dict[str, str]:
    """What `latchkey serve` (production) needs besides the master key conftest sets: the
    address it is reached at (here, this machine's) and a mail choice (console: the worker runs,
    the log shows no content; a test that reads mail sets up its SMTP mailbox instead)."""
    return {"LATCHKEY_PUBLIC_URL": f"http://localhost:{port}", "LATCHKEY_MAIL_MODE": "console"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class LiveServer:
    port: int
    database_url: str
    tenant_id: str
    secret: str
    origins: tuple[str, ...]

    @property
    def url(self) -> str:
        """The base URL browsers use: localhost, so WebAuthn's RP ID `localhost` applies."""
        return f"http://localhost:{self.port}"

    def cli(self, *args: str) -> str:
        """Run `latchkey <args>` against this server's database and return its output."""
        done = subprocess.run(
            [sys.executable, "-m", "latchkey.cli", *args],
            env={**os.environ, "LATCHKEY_DATABASE_URL": self.database_url},
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        )
        return done.stdout


def wait_healthy(url: str, process: subprocess.Popen[str], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            output = process.stdout.read() if process.stdout else ""
            raise AssertionError(f"the server exited early:\n{output}")
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError(f"{url} did not become healthy")


def create_tenant(database_url: str, origins: Sequence[str]) -> dict[str, str]:
    """A tenant for RP ID `localhost`, made with the CLI; its id and secret key."""
    created = subprocess.run(
        [sys.executable, "-m", "latchkey.cli", "tenant", "create", "--rp-id", "localhost"]
        + ["--rp-name", "Latchkey test", "--json"]
        + [arg for origin in origins for arg in ("--origin", origin)],
        env={**os.environ, "LATCHKEY_DATABASE_URL": database_url},
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    tenant: dict[str, str] = json.loads(created.stdout)
    return tenant


@contextmanager
def running(
    command: Sequence[str],
    port: int,
    env: dict[str, str],
    log: Path,
    cwd: Path | None = None,
    startup_timeout: float = 30,
) -> Iterator[subprocess.Popen[str]]:
    """Any server command (an installed `latchkey`, `serve --dev`, `demo`) until the block ends,
    once /health answers on `port`; its output goes to `log`."""
    with log.open("w") as output:
        process = subprocess.Popen(
            list(command), cwd=cwd, env=env, stdout=output, stderr=subprocess.STDOUT, text=True
        )
    try:
        wait_healthy(f"http://127.0.0.1:{port}", process, startup_timeout)
        yield process
    finally:
        stop(process)


def stop(process: subprocess.Popen[str]) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextmanager
def serving(
    database_url: str, port: int, env: dict[str, str] | None = None, log: Path | None = None
) -> Iterator[subprocess.Popen[str]]:
    """`latchkey serve` on this port and database, until the block ends; its output goes to
    `log` when given (a file never fills up as a pipe can)."""
    output = log.open("w") if log else None
    process = subprocess.Popen(
        [sys.executable, "-m", "latchkey.cli", "serve", "--port", str(port)],
        env={
            **os.environ,
            **TEST_LIMITS,
            **production_env(port),
            "LATCHKEY_DATABASE_URL": database_url,
            **(env or {}),
        },
        stdout=output or subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        wait_healthy(f"http://127.0.0.1:{port}", process)
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if output:
            output.close()


@contextmanager
def live_server(
    tmp_path: Path, extra_origins: Sequence[str] = (), env: dict[str, str] | None = None
) -> Iterator[LiveServer]:
    """A tenant for RP ID `localhost` with the server's own origin plus `extra_origins`."""
    port = free_port()
    database_url = f"sqlite:///{tmp_path / 'live.db'}"
    origins = (f"http://localhost:{port}", *extra_origins)
    tenant = create_tenant(database_url, origins)
    with serving(database_url, port, env):
        yield LiveServer(port, database_url, tenant["id"], tenant["secret_key"], origins)
