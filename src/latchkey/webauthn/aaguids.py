"""AAGUID -> a readable provider or model name, the default name of a new passkey."""

from __future__ import annotations

import json
from functools import cache
from importlib.resources import files

from latchkey.metadata.names import model_name

ZERO_AAGUID = "00000000-0000-0000-0000-000000000000"


@cache
def _names() -> dict[str, str]:
    raw = json.loads(files("latchkey.data").joinpath("aaguids.json").read_text("utf-8"))
    return {k.lower(): v for k, v in raw.items() if not k.startswith("_")}


def provider_name(aaguid: str | None) -> str | None:
    """The model's name from the FIDO metadata, else the passkey provider's (synced providers
    are mostly not in the metadata), or None for the zero AAGUID and models we do not know."""
    if not aaguid or aaguid == ZERO_AAGUID:
        return None
    return model_name(aaguid.lower()) or _names().get(aaguid.lower())


def default_credential_name(
    aaguid: str | None, *, attachment: str | None, model: str | None = None
) -> str:
    """The FIDO metadata's name of the model, else the passkey provider's (synced providers are
    mostly not in the metadata), else what the attachment says."""
    name = (model or "")[:100] or provider_name(aaguid)
    if name:
        return name
    # The zero AAGUID is what Apple's and several synced providers send: say what we know.
    return "Security key" if attachment == "cross-platform" else "Passkey"
