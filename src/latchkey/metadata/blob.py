"""Verifying a downloaded MDS3 blob (FIDO Metadata Service 3.0 §3.2): a JWT signed by a
certificate that chains to the FIDO root. python-fido2's `fido2.mds3` does the chain and
signature check; this module only says which of them failed, in words an operator can act on.
"""

from __future__ import annotations

import binascii
import json
from base64 import b64decode
from importlib.resources import files
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.serialization import Encoding
from fido2.attestation.base import InvalidSignature as Fido2InvalidSignature
from fido2.attestation.base import verify_x509_chain
from fido2.mds3 import parse_blob
from fido2.utils import websafe_decode

MAX_BLOB_BYTES = 64 * 1024 * 1024  # today's blob is about 10 MB


class BlobRefused(ValueError):
    """The blob is not accepted; the message says why."""


def fido_root() -> bytes:
    """The FIDO Alliance's MDS3 root (GlobalSign Root CA - R3), DER."""
    pem = files("latchkey.data").joinpath("fido-mds-root.pem").read_bytes()
    return x509.load_pem_x509_certificate(pem).public_bytes(Encoding.DER)


def _parts(blob: bytes) -> tuple[dict[str, Any], dict[str, Any]]:
    try:
        header_b64, payload_b64, _ = blob.strip().split(b".")
        header = json.loads(websafe_decode(header_b64))
        payload = json.loads(websafe_decode(payload_b64))
    except (ValueError, binascii.Error) as exc:
        raise BlobRefused(
            "not an MDS3 blob: expected a signed JWT (header.payload.signature)"
        ) from exc
    if not isinstance(header, dict) or not isinstance(payload, dict):
        raise BlobRefused("not an MDS3 blob: the JWT header or payload is not a JSON object")
    return header, payload


def _chain(header: dict[str, Any]) -> list[bytes]:
    x5c = header.get("x5c")
    if not isinstance(x5c, list) or not x5c or not all(isinstance(c, str) for c in x5c):
        raise BlobRefused("the blob's JWT header carries no x5c certificate chain")
    try:
        return [b64decode(c, validate=True) for c in x5c]
    except (binascii.Error, ValueError) as exc:
        raise BlobRefused("the blob's x5c chain is not base64 certificates") from exc


def verify_blob(blob: bytes, root: bytes) -> dict[str, Any]:
    """The payload of a blob whose chain ends at `root` (DER) and whose signature verifies."""
    if len(blob) > MAX_BLOB_BYTES:
        raise BlobRefused(f"the blob is larger than {MAX_BLOB_BYTES} bytes")
    header, payload = _parts(blob)
    chain = _chain(header)
    try:
        verify_x509_chain([*chain, root])
    except (Fido2InvalidSignature, InvalidSignature, ValueError) as exc:
        subject = x509.load_der_x509_certificate(root).subject.rfc4514_string()
        raise BlobRefused(
            f"wrong root: the blob's certificate chain does not end at the trusted root ({subject})"
        ) from exc
    try:
        parse_blob(blob.strip(), root)
    except (Fido2InvalidSignature, InvalidSignature) as exc:
        raise BlobRefused("bad signature: the blob's JWT signature does not verify") from exc
    except (KeyError, TypeError, ValueError) as exc:
        raise BlobRefused(f"the blob is signed but is not MDS3 metadata: {exc!r}"[:300]) from exc
    return payload
