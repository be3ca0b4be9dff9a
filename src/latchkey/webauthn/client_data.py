"""clientDataJSON: parse, then check type, challenge, origin (§7.1 steps 5-10, §7.2 10-14)."""

from __future__ import annotations

import hmac
import json
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

import orjson

from latchkey.webauthn.encoding import decode_b64url
from latchkey.webauthn.errors import (
    ChallengeMismatch,
    MalformedResponse,
    OriginMismatch,
    TypeMismatch,
)


@dataclass(frozen=True, slots=True)
class ClientData:
    type: str
    challenge: bytes
    origin: str
    cross_origin: bool
    top_origin: str | None


def parse_client_data(raw: bytes) -> ClientData:
    """§7.1 steps 5-6: decode as UTF-8 and parse as JSON."""
    try:
        data = _loads(raw)
    except (UnicodeDecodeError, ValueError) as exc:
        raise MalformedResponse("clientDataJSON is not UTF-8 JSON") from exc
    except RecursionError as exc:  # "[[[[..." nested past the interpreter's recursion limit
        raise MalformedResponse("clientDataJSON is nested too deeply") from exc
    if not isinstance(data, dict):
        raise MalformedResponse("clientDataJSON is not a JSON object")
    kind, origin = data.get("type"), data.get("origin")
    if not isinstance(kind, str) or not isinstance(origin, str):
        raise MalformedResponse("clientDataJSON lacks type or origin")
    cross_origin = data.get("crossOrigin", False)
    top_origin = data.get("topOrigin")
    if not isinstance(cross_origin, bool) or not isinstance(top_origin, str | None):
        raise MalformedResponse("clientDataJSON crossOrigin or topOrigin has the wrong type")
    # A browser serializes USVStrings (§5.8.1.2): an escaped lone surrogate ("\ud800") is not
    # text, and no error message or event may carry it on.
    if not all(_is_text(value) for value in (kind, origin, top_origin or "")):
        raise MalformedResponse("clientDataJSON type or origin is not valid Unicode text")
    challenge = decode_b64url(data.get("challenge"), field="clientDataJSON.challenge")
    return ClientData(kind, challenge, origin, cross_origin, top_origin)


def _loads(raw: bytes) -> Any:
    """`json.loads` of the UTF-8 text, as the standard library decides it, orjson answering
    first: what orjson accepts (strict RFC 8259 in valid UTF-8, no lone surrogate, no NaN, at
    most 1024 levels deep) the standard library accepts too, with the same strings, objects
    (the last of a repeated key) and literals, and a number for a number (orjson's float for an
    integer past 64 bits). Whatever orjson refuses, the standard library decides, raising the
    errors `parse_client_data` maps."""
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return json.loads(raw.decode("utf-8"))


def _is_text(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _shown(value: str | None) -> str:
    """A client-sent value as an error message quotes it: never longer than 100 characters."""
    text = str(value)
    return text if len(text) <= 100 else text[:100] + "..."


def check_client_data(
    client_data: ClientData,
    *,
    expected_type: str,
    expected_challenge: bytes,
    origins: Collection[str],
) -> None:
    # §7.1 step 7 / §7.2 step 11: the type names the ceremony; a get() cannot pass for a create().
    if client_data.type != expected_type:
        raise TypeMismatch(
            f'clientDataJSON.type is "{_shown(client_data.type)}", not "{expected_type}"'
        )
    # §7.1 step 8 / §7.2 step 12.
    if not hmac.compare_digest(client_data.challenge, expected_challenge):
        raise ChallengeMismatch("clientDataJSON.challenge is not the challenge this server issued")
    # §7.1 step 9 / §7.2 step 13.
    if client_data.origin not in origins:
        raise OriginMismatch(f'origin "{_shown(client_data.origin)}" is not an expected origin')
    # §7.1 step 10 / §7.2 step 14: a ceremony in a cross-origin iframe needs an expected top origin.
    if client_data.cross_origin and client_data.top_origin not in origins:
        raise OriginMismatch(
            f'top origin "{_shown(client_data.top_origin)}" is not an expected origin'
        )
