"""An icon for each passkey provider: a monogram in a colour fixed by the provider's name, as a
data: URI (allowed by the pages' CSP), so the account page needs no image from elsewhere."""

from __future__ import annotations

import hashlib
from html import escape
from urllib.parse import quote

_COLOURS = ("#2f5bd3", "#0b7a5c", "#8a3ffc", "#c2410c", "#0e7490", "#b91c1c", "#4d5b7c")


def provider_icon(provider: str | None) -> str:
    label = provider or "Passkey"
    colour = _COLOURS[hashlib.sha256(label.encode()).digest()[0] % len(_COLOURS)]
    letter = escape(label[:1].upper())
    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32">'
        f'<rect width="32" height="32" rx="7" fill="{colour}"/>'
        '<text x="16" y="21.5" font-family="system-ui,sans-serif" font-size="16" '
        f'font-weight="700" text-anchor="middle" fill="#fff">{letter}</text></svg>'
    )
    return "data:image/svg+xml," + quote(svg)
