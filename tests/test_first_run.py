"""A quiet first run (issue 20 §5), through the real `latchkey` executable and interpreter: one
banner with the demo's and the portal's addresses and how to enrol the first operator, uvicorn's
start-up lines not repeated per server, no library deprecation warning (fixed where it starts,
not filtered)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

import latchkey as latchkey_package
from tests.live_server import free_port, running

LATCHKEY = str(Path(sys.executable).with_name("latchkey"))

# Imported the way `latchkey demo` imports it; the warning filters afterwards show that nothing
# hides a warning, and Authlib's OAuth client is the httpx2 one it recommends.
IMPORT_CHECK = """
import warnings
import latchkey.demo.run
import httpx2
from authlib.integrations.httpx_client import AsyncOAuth2Client
assert issubclass(AsyncOAuth2Client, httpx2.AsyncClient), AsyncOAuth2Client.__mro__
hidden = [f for f in warnings.filters if f[0] == "ignore" and f[1] is not None]
assert hidden == [], hidden
"""


def test_the_demo_and_its_oidc_client_import_without_deprecation_warnings() -> None:
    # Authlib warns (AuthlibDeprecationWarning, a DeprecationWarning) when its httpx client runs
    # on httpx instead of httpx2; -W error turns any such warning into a failed import.
    done = subprocess.run(
        [sys.executable, "-W", "error::DeprecationWarning", "-c", IMPORT_CHECK],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""


def _wait_for(log: Path, text: str, timeout: float = 30) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        output = log.read_text()
        if text in output:
            return output
        time.sleep(0.1)
    raise AssertionError(f"{text!r} never printed:\n{log.read_text()}")


def test_demo_prints_one_banner_and_no_library_noise(tmp_path: Path) -> None:
    latchkey, login, app, portal = (free_port() for _ in range(4))
    command = [LATCHKEY, "demo", "--port", str(latchkey), "--login-port", str(login)]
    command += ["--app-port", str(app), "--portal-port", str(portal)]
    env = {k: v for k, v in os.environ.items() if not k.startswith("LATCHKEY_")}
    env["LATCHKEY_DATABASE_URL"] = f"sqlite:///{tmp_path / 'demo.db'}"
    log = tmp_path / "demo.log"
    with running(command, latchkey, env, log, cwd=tmp_path):
        _wait_for(log, "first operator:")
        root = httpx.get(f"http://127.0.0.1:{latchkey}/", headers={"accept": "text/html"})
        icons = {
            (port, name): httpx.get(f"http://127.0.0.1:{port}/{name}", timeout=10)
            for port in (latchkey, login, app, portal)
            for name in ("favicon.ico", "favicon.svg")
        }
    output = log.read_text()
    lines = output.splitlines()
    start = lines.index("Latchkey demo is running (Ctrl-C stops it):")
    assert [line for line in lines if "demo is running" in line] == [lines[start]]
    # The development notice stays one line of its own (test_wheel and test_modes find it so).
    assert len([line for line in lines if "development mode" in line]) == 1
    banner = "\n".join(lines[start : start + 7])
    for url in (
        f"http://localhost:{app}",
        f"http://localhost:{login}",
        f"http://localhost:{portal}",
        f"http://localhost:{latchkey}/",
        f"http://localhost:{latchkey}/portal",
    ):
        assert url in banner, banner
    # How to enrol the first operator: the command, on the executable that ran the demo.
    assert f"{LATCHKEY} admin create --name you@example.com" in banner
    # uvicorn's start-up lines, once per server before, and no library warnings.
    assert "Started server process" not in output
    assert "Uvicorn running on" not in output
    assert "DeprecationWarning" not in output
    assert "Warning" not in output
    assert output.count("Latchkey demo stopped.") == 1
    # A tab icon on every port: the service (and its portal) and each of the demo's apps.
    static = Path(latchkey_package.__file__).parent / "static"
    for (port, name), answer in icons.items():
        assert answer.status_code == 200, (port, name)
        if name == "favicon.ico":
            assert answer.headers["content-type"] == "image/png"
            assert answer.content == (static / "favicon.png").read_bytes()
        else:
            assert answer.headers["content-type"] == "image/svg+xml"
            assert answer.content == (static / "favicon.svg").read_bytes()
    # The root page links the demo's apps.
    assert root.status_code == 200
    assert f'href="http://localhost:{app}"' in root.text


def test_dev_serve_prints_the_portal_and_the_first_operator_command(tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("LATCHKEY_")}
    env["LATCHKEY_DATABASE_URL"] = f"sqlite:///{tmp_path / 'latchkey.db'}"
    log = tmp_path / "serve.log"
    with running([LATCHKEY, "serve", "--dev", "--port", str(port)], port, env, log, tmp_path):
        pass
    output = log.read_text()
    assert f"Latchkey is running on http://localhost:{port}/" in output
    assert f"  portal        http://localhost:{port}/portal" in output
    assert f"{LATCHKEY} admin create --name you@example.com" in output
    assert output.count("Started server process") == 1
    assert "DeprecationWarning" not in output
