"""Real-browser fixtures: Debian's Chromium driven by Playwright, a DevTools virtual
authenticator (ctap2, internal, resident keys, user verification), a live Latchkey, and a page
server on a second origin (the tenant lists it), so the SDKs work across origins as in real
deployments."""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.browser.flows import Backend, Tab, VendorBackend
from tests.live_server import LiveServer, free_port, live_server

CHROMIUM = "/usr/bin/chromium"
HERE = Path(__file__).parent
VENDOR_BUNDLE = HERE / "js/node_modules/@authsignal/browser/dist/index.min.js"
REQUIRED = os.environ.get("LATCHKEY_REQUIRE_BROWSER") == "1"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _missing() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright for Python is not installed (pip install playwright)"
    if not Path(CHROMIUM).exists():
        return f"{CHROMIUM} is missing (apt-get install -y chromium)"
    if not VENDOR_BUNDLE.exists() and shutil.which("npm") is None:
        return "npm is missing, so @authsignal/browser cannot be installed"
    return None


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    reason = _missing()
    if reason is None:
        return
    for item in items:
        if "tests/browser" not in str(item.fspath):
            continue
        if REQUIRED:
            raise pytest.UsageError(
                f"browser tests required (LATCHKEY_REQUIRE_BROWSER=1): {reason}"
            )
        item.add_marker(pytest.mark.skip(reason=f"browser tests skipped: {reason}"))


def _vendor_bundle() -> Path:
    if not VENDOR_BUNDLE.exists():
        subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund", "--silent"],
            cwd=HERE / "js",
            check=True,
            timeout=300,
        )
    return VENDOR_BUNDLE


class _Pages(SimpleHTTPRequestHandler):
    """Test pages, and the vendor's bundle at /vendor/authsignal.min.js."""

    vendor: Path

    def translate_path(self, path: str) -> str:
        if path.split("?")[0] == "/vendor/authsignal.min.js":
            return str(self.vendor)
        return super().translate_path(path)

    def log_message(self, format: str, *args: Any) -> None:
        return


@pytest.fixture(scope="session")
def page_origin() -> Iterator[str]:
    handler = functools.partial(_Pages, directory=str(HERE / "pages"))
    _Pages.vendor = _vendor_bundle()
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://localhost:{server.server_address[1]}"
    finally:
        server.shutdown()


@pytest.fixture(scope="module")
def latchkey(page_origin: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with live_server(tmp_path_factory.mktemp("browser"), extra_origins=[page_origin]) as server:
        yield server


# Package scope: Playwright's sync driver keeps an event loop running in this thread while it
# lives, so it must be gone before tests elsewhere call asyncio.run().
@pytest.fixture(scope="package")
def chromium() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def blank_tab(chromium: Any) -> Iterator[Any]:
    """Open a browser tab (its own context) with its own virtual authenticator."""
    contexts: list[Any] = []

    def open_() -> Tab:
        context = chromium.new_context()
        contexts.append(context)
        page = context.new_page()
        cdp = context.new_cdp_session(page)
        cdp.send("WebAuthn.enable", {"enableUI": False})
        added = cdp.send(
            "WebAuthn.addVirtualAuthenticator",
            {
                "options": {
                    "protocol": "ctap2",
                    "transport": "internal",
                    "hasResidentKey": True,
                    "hasUserVerification": True,
                    "isUserVerified": True,
                    "automaticPresenceSimulation": True,
                }
            },
        )
        return Tab(page, cdp, added["authenticatorId"])

    yield open_
    for context in contexts:
        context.close()


@pytest.fixture
def open_tab(blank_tab: Any, latchkey: LiveServer, page_origin: str) -> Any:
    """Open a test page (latchkey.html or authsignal.html) wired to the live Latchkey."""

    def open_(page_name: str) -> Tab:
        tab: Tab = blank_tab()
        query = f"?latchkey={latchkey.url}&tenant={latchkey.tenant_id}"
        tab.page.goto(f"{page_origin}/{page_name}{query}")
        tab.page.wait_for_function("window.ready === true")
        return tab

    return open_


@pytest.fixture
def backend(latchkey: LiveServer) -> Backend:
    return Backend(latchkey)


@pytest.fixture
def vendor_backend(latchkey: LiveServer) -> Backend:
    return VendorBackend(latchkey)
