"""Every `pattern` attribute Latchkey serves compiles as browsers compile it: as
`^(?:pattern)$` with the `v` flag (HTML §4.10.5.3.6), where a `-` or `(` in a class must be
escaped. An invalid one is not an error a user sees: the browser logs a SyntaxError and skips
the check (Chromium 156 did so for the demo's username field). Checked with Node's RegExp."""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from latchkey.demo import apps, pages

TEMPLATES = Path(apps.__file__).resolve().parent.parent / "web" / "templates"


def served_patterns() -> list[str]:
    sources = [pages.app_home("http://localhost:5001"), pages.login_page()]
    sources += [p.read_text() for p in sorted(TEMPLATES.rglob("*.html"))]
    found = [re.findall(r'\spattern="([^"]*)"', source) for source in sources]
    return [html.unescape(p) for patterns in found for p in patterns]


def compile_as_browsers(patterns: list[str]) -> dict[str, str | None]:
    """Each pattern and Node's SyntaxError for it (None: it compiles)."""
    node = shutil.which("node")
    if node is None:
        if os.environ.get("LATCHKEY_REQUIRE_BROWSER") == "1":
            pytest.fail("node not found: form patterns are compiled with Node's RegExp")
        pytest.skip("node not found: form patterns are compiled with Node's RegExp")
    script = """
const out = {};
for (const p of JSON.parse(process.argv[1])) {
  try { new RegExp("^(?:" + p + ")$", "v"); out[p] = null; } catch (e) { out[p] = e.message; }
}
console.log(JSON.stringify(out));
"""
    done = subprocess.run(
        [node, "-e", script, json.dumps(patterns)],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    result: dict[str, str | None] = json.loads(done.stdout)
    return result


def test_every_served_pattern_compiles_with_the_v_flag() -> None:
    patterns = served_patterns()
    assert "[A-Za-z0-9._@\\-]+" in patterns  # the demo's username
    assert compile_as_browsers(patterns) == dict.fromkeys(patterns)


def test_the_old_username_pattern_was_invalid() -> None:
    # What the demo served before: the check these tests exist to catch.
    [error] = compile_as_browsers(["[A-Za-z0-9._@-]+"]).values()
    assert error is not None
    assert "Invalid" in error


@pytest.mark.parametrize(
    ("username", "accepted"),
    [("ada", True), ("ada.lovelace-1@example.com", True), ("ada lovelace", False), ("a\\b", False)],
)
def test_the_backend_checks_the_same_rule(username: str, accepted: bool) -> None:
    assert bool(apps._USERNAME.match(username)) is accepted
