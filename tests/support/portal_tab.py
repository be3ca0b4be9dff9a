"""The operator portal in Chromium: the enrolment link `latchkey admin create` prints, waiting
for a page, screenshots light and dark, and the CSP violations a tab reports."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.browser.flows import Tab
from tests.live_server import LiveServer

ARTIFACTS = Path(os.environ.get("LATCHKEY_ARTIFACTS", "artifacts")) / "portal"


def admin_create(server: LiveServer, name: str) -> str:
    """`latchkey admin create` as an operator types it; the enrolment link it prints."""
    done = subprocess.run(
        [sys.executable, "-m", "latchkey.cli", "admin", "create", "--name", name],
        env={
            **os.environ,
            "LATCHKEY_DATABASE_URL": server.database_url,
            "LATCHKEY_PUBLIC_URL": server.url,
        },
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return next(line for line in done.stdout.splitlines() if "#token=" in line)


def at(tab: Tab, path: str) -> None:
    """Wait until the tab shows this path (the ceremonies navigate from script)."""
    tab.page.wait_for_function("path => location.pathname === path", arg=path)


def shoot(tab: Tab, name: str, folder: Path = ARTIFACTS) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for scheme in ("light", "dark"):
        tab.page.emulate_media(color_scheme=scheme)
        tab.page.screenshot(path=str(folder / f"{name}-{scheme}.png"), full_page=True)
    tab.page.emulate_media(color_scheme="light")


def watch_csp(tab: Tab) -> list[str]:
    """Every CSP violation or page error the tab reports."""
    seen: list[str] = []
    tab.page.on(
        "console",
        lambda m: seen.append(m.text) if "Content Security Policy" in m.text else None,
    )
    tab.page.on("pageerror", lambda e: seen.append(str(e)))
    tab.page.on("dialog", lambda d: d.accept())  # the confirmations of destructive buttons
    return seen
