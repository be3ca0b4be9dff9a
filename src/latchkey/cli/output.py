"""How `latchkey` commands print a record: JSON with --json, else one aligned line a field."""

from __future__ import annotations

import json
from typing import Any


def print_fields(data: dict[str, Any], *, as_json: bool) -> None:
    if as_json:
        print(json.dumps(data, indent=2))
        return
    for key, value in data.items():
        shown = ", ".join(value) if isinstance(value, list) else value
        print(f"{key:>20}: {shown}")
