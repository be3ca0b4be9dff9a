"""Names and icons of authenticator models from the FIDO metadata Latchkey ships, for pages and
API objects; an icon is the metadata's own image (a data: URI), served by Latchkey, no CDN."""

from __future__ import annotations

import binascii
from base64 import b64decode

from latchkey.metadata.bundled import bundled

ICON_TYPES = ("image/png", "image/svg+xml", "image/jpeg", "image/gif", "image/webp")


def model_name(aaguid: str | None) -> str | None:
    model = bundled().by_aaguid(aaguid)
    return model.description[:100] if model is not None else None


def model_icon(aaguid: str | None) -> str | None:
    """The model's icon as the data: URI the metadata holds, when it is an image we serve."""
    found = icon_bytes(aaguid)
    model = bundled().by_aaguid(aaguid)
    return model.icon if found is not None and model is not None else None


def icon_bytes(aaguid: str | None) -> tuple[str, bytes] | None:
    """(media type, bytes) of the model's icon; None when it has none or it cannot be read."""
    model = bundled().by_aaguid(aaguid)
    icon = model.icon if model is not None else None
    if not icon or "," not in icon:
        return None
    head, _, data = icon.partition(",")
    media = head.removeprefix("data:").removesuffix(";base64")
    if media not in ICON_TYPES or not head.endswith(";base64"):
        return None
    try:
        return media, b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        return None
