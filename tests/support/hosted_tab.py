"""The identity pools' hosted pages in Chromium: a page's URL, autofill left pending as until
a user picks a passkey, signing out, and a password set with the CLI on the server's database."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from tests.browser.flows import Tab
from tests.live_server import LiveServer


def pool_url(server: LiveServer, pool: str, page: str) -> str:
    return f"{server.url}/{server.tenant_id}/identity/{pool}/{page}"


@contextmanager
def autofill_waiting(tab: Tab) -> Iterator[None]:
    """Pages opened in the block keep their autofill request pending, as until a user picks a
    passkey from the list (the virtual authenticator would otherwise answer it at once)."""
    presence = {"authenticatorId": tab.authenticator_id}
    tab.cdp.send("WebAuthn.setAutomaticPresenceSimulation", {**presence, "enabled": False})
    try:
        yield
    finally:
        tab.cdp.send("WebAuthn.setAutomaticPresenceSimulation", {**presence, "enabled": True})


def sign_out(tab: Tab) -> None:
    tab.page.click("#sign-out")
    tab.page.wait_for_url(re.compile(r".*/signin$"))


def set_password(server: LiveServer, pool: str, identifier: str, password: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "latchkey.cli", "pool", "set-password", server.tenant_id, pool,
         identifier],
        input=password + "\n",
        env={**os.environ, "LATCHKEY_DATABASE_URL": server.database_url},
        text=True,
        check=True,
        capture_output=True,
        timeout=60,
    )  # fmt: skip
