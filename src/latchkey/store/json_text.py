"""The text of JSON columns (event details, user profiles, action attributes, ...).

orjson writes and reads it about ten times faster than the standard library, which SQLAlchemy
uses by default; every sign-in writes two or three of these values and reads one or two. Where
orjson refuses a value (an integer past 64 bits, a key that is not a string; NaN, Infinity or a
lone surrogate in stored text) the standard library decides, as before. One difference is kept
on purpose: a NaN or infinite float is written as null (the standard library writes the
non-JSON literals NaN and Infinity, which the API's answers already render as null).
"""

from __future__ import annotations

import json
from typing import Any

import orjson


def dumps(value: Any) -> str:
    try:
        return orjson.dumps(value).decode()
    except orjson.JSONEncodeError:
        return json.dumps(value)


def loads(text: str | bytes) -> Any:
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)
