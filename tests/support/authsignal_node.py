"""Authsignal's own Node SDK in tests: its webhook verifier (`constructEvent`) run under node
from the pinned @authsignal/node in tests/browser/js (installed by `npm ci` when CI has not),
so Latchkey's webhook signatures are checked by the vendor's code, not by ours."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

VERIFY_JS = """
const { Authsignal } = require("@authsignal/node");
let input = "";
process.stdin.on("data", (chunk) => (input += chunk));
process.stdin.on("end", () => {
  const results = JSON.parse(input).map(({ secret, body, header, tolerance }) => {
    // As Authsignal's docs have it: the raw body and the X-Signature-V2 header.
    const authsignal = new Authsignal({ apiSecretKey: secret });
    try {
      return { ok: true, event: authsignal.webhook.constructEvent(body, header, tolerance) };
    } catch (error) {
      return { ok: false, error: error.message };
    }
  });
  process.stdout.write(JSON.stringify(results));
});
"""


VENDOR_JS = Path(__file__).parents[1] / "browser" / "js"  # package.json pins @authsignal/node
VENDOR_PACKAGE = VENDOR_JS / "node_modules" / "@authsignal" / "node"


@pytest.fixture(scope="session")
def vendor_verifier(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A script running the vendor's verifier, from the pinned @authsignal/node (installed by
    `npm ci` in tests/browser/js, here when CI has not already)."""
    npm, node = shutil.which("npm"), shutil.which("node")
    if npm is None or node is None:
        message = (
            "npm/node not found: webhook signatures are checked with the vendor's own verifier"
            " (npm @authsignal/node); install Node.js to run these tests"
        )
        if os.environ.get("LATCHKEY_REQUIRE_BROWSER") == "1":
            pytest.fail(message)
        pytest.skip(message)
    if not (VENDOR_PACKAGE / "package.json").exists():
        subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--silent"],
            cwd=VENDOR_JS,
            check=True,
            timeout=300,
        )
    folder = tmp_path_factory.mktemp("authsignal-node")
    (folder / "verify.js").write_text(VERIFY_JS)
    return folder


def sdk_verify(folder: Path, checks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Run constructEvent on each {secret, body, header, tolerance?}."""
    done = subprocess.run(
        ["node", "verify.js"],
        cwd=folder,
        env={**os.environ, "NODE_PATH": str(VENDOR_JS / "node_modules")},
        input=json.dumps(checks),
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    results: list[dict[str, Any]] = json.loads(done.stdout)
    return results
