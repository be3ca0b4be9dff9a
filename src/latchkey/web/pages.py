"""Rendering the hosted pages: Jinja2 with autoescaping, and the headers every page carries.

No inline script or style anywhere, so the Content-Security-Policy can forbid both; the pool's
colour comes from a small per-pool stylesheet (theme.css), page data from data-* attributes.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

# worker-src 'self': the bot check solves in a same-origin worker file (static/vendor/altcha).
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' https: data:; "
    "connect-src 'self'; worker-src 'self'; form-action 'self'; base-uri 'none'; "
    "frame-ancestors 'none'"
)

PAGE_HEADERS = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    # Recovery links carry a token in the URL: never send it on as a Referer.
    "referrer-policy": "no-referrer",
    "cache-control": "no-store",
}


@cache
def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("latchkey.web", "templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render(template: str, **values: Any) -> str:
    return _environment().get_template(template).render(**values)
