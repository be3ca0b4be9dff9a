"""Strict unpadded base64url decoding of the binary fields of a WebAuthn JSON response."""

from __future__ import annotations

import binascii
from base64 import urlsafe_b64decode, urlsafe_b64encode
from collections.abc import Mapping
from typing import Any, TypeGuard

from latchkey.webauthn.errors import MalformedResponse

# urlsafe_b64decode's own steps (ASCII only, "-_" read as "+/", binascii's lenient decode),
# without its three Python-level calls: the hot path decodes ten fields per sign-in.
_URLSAFE = bytes.maketrans(b"-_", b"+/")
_PADDING = ("", "===", "==", "=")


def decode_b64url(value: Any, *, field: str) -> bytes:
    if not isinstance(value, str):
        raise MalformedResponse(f"{field} must be a base64url string")
    try:
        # Tolerate padding the way browsers' toJSON() never emit but some SDKs do.
        text = (value + _PADDING[len(value) % 4]).encode("ascii")
        return binascii.a2b_base64(text.translate(_URLSAFE))
    except (binascii.Error, ValueError) as exc:
        raise MalformedResponse(f"{field} is not valid base64url") from exc


def is_object(value: Any) -> TypeGuard[Mapping[str, Any]]:
    """A JSON object (a Mapping). A decoded one is a dict: its exact type answers before the
    ABC's isinstance."""
    return type(value) is dict or isinstance(value, Mapping)


def _credential_object(credential: Any) -> Mapping[str, Any]:
    # The JSON body's field may hold any JSON value; only an object is a PublicKeyCredential.
    if not is_object(credential):
        raise MalformedResponse("the credential must be a JSON object")
    return credential


def response_object(credential: Mapping[str, Any]) -> Mapping[str, Any]:
    """credential.response, which must be an object."""
    response = _credential_object(credential).get("response")
    if not is_object(response):
        raise MalformedResponse("credential.response must be an object")
    return response


def response_part(credential: Mapping[str, Any], name: str) -> bytes:
    """A base64url field of credential.response, decoded."""
    return response_field(response_object(credential), name)


def response_field(response: Mapping[str, Any], name: str) -> bytes:
    """A base64url field of a `response_object`, decoded."""
    return decode_b64url(response.get(name), field=f"response.{name}")


def credential_raw_id(credential: Mapping[str, Any]) -> bytes:
    """rawId, which must agree with id (both name the same credential)."""
    credential = _credential_object(credential)
    if credential.get("type") != "public-key":
        raise MalformedResponse('credential.type must be "public-key"')
    raw, text = credential.get("rawId"), credential.get("id")
    raw_id = decode_b64url(raw, field="rawId")
    # Equal strings decode alike: the second decode is only for an id spelt otherwise.
    if text != raw and decode_b64url(text, field="id") != raw_id:
        raise MalformedResponse("credential id and rawId differ")
    if not raw_id:
        raise MalformedResponse("credential id is empty")
    return raw_id


def b64url(data: bytes) -> str:
    return urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(value: str) -> bytes:
    return urlsafe_b64decode(value + "=" * (-len(value) % 4))
