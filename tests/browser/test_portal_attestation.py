"""Issue 19 in Chromium: a tenant with attestation `direct` and status rule `block`; a user
registers an attested test key over /v1; the operator loads a newer FIDO metadata blob (the
real CLI, a test root) that reports the model REVOKED; the overview shows the alert with the
affected user, the user page the model, its certification and status, and the passkey's next
sign-in is refused. Screenshots in artifacts/portal-attestation, light and dark."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from latchkey.testing.attestation_ca import AttestationCA
from latchkey.testing.authenticator import SoftAuthenticator
from latchkey.testing.mds_blob import MdsSigner, entry, payload
from tests.browser.flows import Tab
from tests.live_server import LiveServer, live_server
from tests.support.portal_tab import admin_create, at, shoot, watch_csp
from tests.web_parties import Backend, Browser

ARTIFACTS = Path(os.environ.get("LATCHKEY_ARTIFACTS", "artifacts")) / "portal-attestation"
MODEL = "3e1f9c2a-5b7d-4f60-8a91-2c4d6e8f0a1b"
NAME = "Latchkey Test Key"


class AttestedKey(SoftAuthenticator):
    """A security key that attests (packed, x5c) whatever the page asks."""

    def create(self, options: dict[str, Any], **kw: Any) -> dict[str, Any]:
        kw.setdefault("attestation", "packed")
        return super().create(options, **kw)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    # The server looks for newly loaded metadata every second instead of every 30.
    env = {"LATCHKEY_METADATA_CHECK_SECONDS": "1"}
    with live_server(tmp_path_factory.mktemp("attestation"), env=env) as running:
        yield running


def _load(server: LiveServer, tmp: Path, signer: MdsSigner, no: int, blob: bytes) -> None:
    (tmp / "blob.jwt").write_bytes(blob)
    (tmp / "root.pem").write_bytes(signer.root_pem)
    said = server.cli(
        "mds", "update", "--file", str(tmp / "blob.jwt"), "--trust-root", str(tmp / "root.pem")
    )
    assert f"loaded FIDO metadata serial {no}" in said
    deadline = time.monotonic() + 20  # the server checks the serial in use every second
    while httpx.get(f"{server.url}/health").json()["metadata"]["no"] != no:
        assert time.monotonic() < deadline, "the server did not pick up the new metadata"
        time.sleep(1)


def test_status_change_in_the_portal(blank_tab: Any, server: LiveServer, tmp_path: Path) -> None:
    signer, ca = MdsSigner(), AttestationCA()
    first = int(httpx.get(f"{server.url}/health").json()["metadata"]["no"]) + 1

    def blob(no: int, *statuses: tuple[str, str]) -> bytes:
        return signer.sign(
            payload(no, [entry(MODEL, NAME, root_der=ca.der, statuses=list(statuses))])
        )

    certified = ("FIDO_CERTIFIED_L1", "2025-06-01")
    _load(server, tmp_path, signer, first, blob(first, certified))
    server.cli(
        "tenant", "update", server.tenant_id, "--attestation", "direct", "--status-rule", "block"
    )

    key, der = ca.batch(uuid.UUID(MODEL).bytes)
    authenticator = AttestedKey(
        aaguid=uuid.UUID(MODEL).bytes, attachment="cross-platform", batch_key=key, batch_chain=[der]
    )
    http = httpx.Client(base_url=server.url, timeout=10)
    backend = Backend(http, server.secret)  # type: ignore[arg-type]
    browser = Browser(http, server.tenant_id, origin=server.url, authenticator=authenticator)
    tracked = backend.track("carol", "add-passkey", email="carol@example.com")
    assert browser.sign_up(tracked["token"]).status_code == 200
    assert browser.sign_in().json()["isVerified"] is True

    _load(
        server, tmp_path, signer, first + 1, blob(first + 1, certified, ("REVOKED", "2026-12-01"))
    )
    refused = browser.sign_in()
    assert refused.status_code == 403
    assert "authenticator_blocked" in refused.text
    http.close()

    tab: Tab = blank_tab()
    problems = watch_csp(tab)
    page = tab.page
    page.goto(admin_create(server, "ops@example.com"))
    page.click("#passkey-enrol")
    at(tab, "/portal")
    base = f"{server.url}/portal/t/{server.tenant_id}"
    page.goto(base)
    page.wait_for_selector(".card.alert")
    alert = page.inner_text(".card.alert")
    assert f"{NAME} reported REVOKED" in alert
    assert "their sign-ins are refused" in alert
    assert "carol" in alert
    assert f"serial {first + 1}" in page.inner_text("#fido-metadata")
    shoot(tab, "overview-alert", ARTIFACTS)
    page.click(".card.alert .affected a")
    page.wait_for_selector(".passkey")
    row = page.inner_text(".passkey")
    assert NAME in row
    assert "FIDO L1" in row
    assert "REVOKED" in row
    shoot(tab, "user-passkey-model", ARTIFACTS)
    page.goto(f"{base}/settings")
    page.fill("#aaguid_deny", NAME)
    page.click("#save-attestation")
    page.wait_for_load_state()
    assert page.locator(".notice").count() == 1, page.inner_text("main")
    assert page.input_value("#aaguid_deny") == NAME
    page.locator("#attestation-rules").scroll_into_view_if_needed()
    shoot(tab, "settings-authenticator-rules", ARTIFACTS)
    assert problems == []
