"""A quiet first run (issue 20 §5), through the real `latchkey` executable and interpreter: no
library deprecation warning, fixed where it starts rather than filtered."""

from __future__ import annotations

import subprocess
import sys

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
