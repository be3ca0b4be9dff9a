"""Property-based fuzzing of the WebAuthn parsers (issue 10, item 5).

Whatever a client sends, the attestation object, authenticator data, COSE key and
clientDataJSON parsers end in a Latchkey domain error (a specific LatchkeyError subclass) or,
when nothing that matters changed, in a successful verification: never in another exception.
The inputs are random bytes, CBOR and JSON of the right shape with the wrong content, and
mutations of the real responses of ../shared/conformance. Over HTTP the same inputs get a 4xx
JSON answer, never a 5xx.

CI runs a fixed, derandomized number of examples per test (LATCHKEY_FUZZ_EXAMPLES unset: 500).
A nightly run sets LATCHKEY_FUZZ_EXAMPLES (e.g. 100000) and explores at random:
    LATCHKEY_FUZZ_EXAMPLES=100000 pytest -q -p no:cacheprovider tests/test_fuzz_parsers.py
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import os
import struct
from base64 import urlsafe_b64decode
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any, cast
from unittest import mock

import cbor2
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from litestar.testing import TestClient
from webauthn.helpers import parse_authenticator_data

from latchkey.errors import LatchkeyError, VerificationError
from latchkey.models import Tenant
from latchkey.testing.authenticator import SoftAuthenticator, b64url
from latchkey.webauthn import client_data
from latchkey.webauthn.attestation import check_aaguid_extension, check_packed_certificate
from latchkey.webauthn.authentication_verification import (
    read_assertion_identity,
    verify_authentication_response,
)
from latchkey.webauthn.authenticator_data import check_auth_data, parse_auth_data
from latchkey.webauthn.client_data import check_client_data, parse_client_data
from latchkey.webauthn.encoding import credential_raw_id, decode_b64url, response_part
from latchkey.webauthn.errors import InvalidAttestation, MalformedResponse, UnsupportedAlgorithm
from latchkey.webauthn.public_keys import load_public_key
from latchkey.webauthn.registration_verification import verify_registration_response
from tests.ceremony_client import CeremonyClient
from tests.web_parties import ORIGIN, Backend, Browser

# --- budget -------------------------------------------------------------------------------------

_NIGHTLY = os.environ.get("LATCHKEY_FUZZ_EXAMPLES")
EXAMPLES = int(_NIGHTLY) if _NIGHTLY else 500
FUZZ = settings(
    max_examples=EXAMPLES,
    derandomize=not _NIGHTLY,  # CI: the same examples on every run
    database=None,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
# Each HTTP example is a few requests and database writes: a fifth of the budget.
FUZZ_HTTP = settings(
    FUZZ,
    max_examples=max(EXAMPLES // 5, 40),
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.function_scoped_fixture,  # one database per test; each example is new state
    ],
)

# --- the corpus ---------------------------------------------------------------------------------

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "conformance" / "vectors"
REGISTRATIONS = (
    "reg-chromium-device-bound-es256",  # none, ES256
    "reg-chromium-synced-passkey-eddsa",  # none, EdDSA, BE+BS
    "reg-swa-should-verify-none-attestation-w-rsa-public-key",  # none, RS256
    "reg-swa-should-return-authenticator-extension-output",  # none, with extensions (ED)
    "reg-swa-should-verify-packed-ec2-attestation",  # packed
    "reg-yubico-yubi-key5-nfc",  # packed, x5c
    "reg-verify-attestation-with-okp-public-key",  # packed, EdDSA
    "reg-swa-should-verify-packed-attestation-with-rsa-pss-sha-256-public",  # packed, PS256
    "reg-swa-should-succeed-if-id-fido-gen-ce-aaguid-extension-is-present-2",  # packed, AAGUID ext
    "reg-yubico-mldsa44",  # packed, ML-DSA-44
    "reg-swa-should-verify-fido-u2f-attestation",  # fido-u2f
    "reg-yubico-thinkpad-tpm",  # tpm, ECC
    "reg-yubico-windows-hello-tpm",  # tpm, RSA
    "reg-swa-should-validate-tpm-rsa-response-sha256",  # tpm, either (odd certificatePolicies)
    "reg-verify-attestation-android-key-hardware-authority",  # android-key
    "reg-verify-attestation-apple-passkey",  # apple
    "reg-pyw-verify-attestation-android-safetynet",  # android-safetynet
)
AUTHENTICATIONS = (
    "auth-chromium-device-bound-es256",
    "auth-chromium-synced-passkey-eddsa",
    "auth-verify-authentication-response-with-rsa-public-key",
    "auth-yubico-yubi-key5-nfc",
    "auth-yubico-large-blob-read",  # extensions
    "auth-yubico-mldsa44",
    "auth-supports-multiple-expected-origins",
)


def _load_vectors() -> dict[str, dict[str, Any]]:
    if not CORPUS.is_dir():
        return {}
    found: dict[str, dict[str, Any]] = {}
    for path in sorted(CORPUS.glob("real-*.json")):
        found.update((v["id"], v) for v in json.loads(path.read_text()))
    return found


VECTORS = _load_vectors()
needs_corpus = pytest.mark.skipif(not VECTORS, reason=f"no conformance corpus at {CORPUS}")


def _b64(value: str) -> bytes:
    return urlsafe_b64decode(value + "=" * (-len(value) % 4))


def _origins(vector: Mapping[str, Any]) -> list[str]:
    origin = vector["expected_origin"]
    return [origin] if isinstance(origin, str) else list(origin)


def _register(vector: Mapping[str, Any], credential: Any) -> Any:
    when = vector.get("trust_path_checked_at")
    return verify_registration_response(
        credential=credential,
        expected_challenge=_b64(vector["expected_challenge"]),
        rp_id=vector["rp_id"],
        origins=_origins(vector),
        require_user_verification=vector["require_user_verification"],
        allowed_algorithms=vector["allowed_algorithms"],
        require_user_presence=vector.get("require_user_presence", True),
        checked_at=datetime.fromisoformat(when.replace("Z", "+00:00")) if when else None,
    )


def _owner(vector: Mapping[str, Any]) -> bytes | None:
    handle = vector.get("expected_user_handle") or vector["credential"]["response"].get(
        "userHandle"
    )
    return _b64(handle) if handle else None


def _authenticate(vector: Mapping[str, Any], credential: Any, public_key: bytes) -> Any:
    return verify_authentication_response(
        credential=credential,
        expected_challenge=_b64(vector["expected_challenge"]),
        rp_id=vector["rp_id"],
        origins=_origins(vector),
        public_key=public_key,
        stored_sign_count=vector["stored_sign_count"],
        owner_user_handle=_owner(vector),
        require_user_verification=vector["require_user_verification"],
        allowed_credential_ids=(_b64(vector["credential"]["rawId"]),),
    )


# --- the property -------------------------------------------------------------------------------


def _outcome(call: Callable[[], Any]) -> Any:
    """The call's result, or the domain error it raised; any other exception fails the test."""
    try:
        return call()
    except LatchkeyError as error:
        _check_error(error)
        return error


def _check_error(error: LatchkeyError) -> None:
    # A specific step's error, not the bare base classes, with a message every surface can send.
    assert type(error) not in (LatchkeyError, VerificationError), repr(error)
    assert error.code not in ("error", "verification_failed")
    assert isinstance(error.message, str)
    assert error.message
    error.message.encode("utf-8")  # a lone surrogate here would crash the JSON answer
    assert len(error.message) <= 1000, error.message[:200]


def _decoded(value: Any) -> bytes | None:
    """A base64url field as the verifier reads it (None when it is not readable)."""
    try:
        return decode_b64url(value, field="x")
    except MalformedResponse:
        return None


def _field(credential: Any, name: str) -> bytes | None:
    response = credential.get("response") if isinstance(credential, Mapping) else None
    return _decoded(response.get(name)) if isinstance(response, Mapping) else None


# --- strategies ---------------------------------------------------------------------------------

HUGE_INTEGERS = st.sampled_from(
    [2**63, 2**64 - 1, 2**64, -(2**64), -(2**64) - 1, 2**1000, -(2**4000), 10**300]
)
JSON_LEAVES = (
    st.none()
    | st.booleans()
    | st.integers()
    | HUGE_INTEGERS
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40)
    | st.binary(max_size=40).map(b64url)
)
JSON_VALUES = st.recursive(
    JSON_LEAVES,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)
# Tags cbor2 decodes into Python objects (dates, bignums, decimals, shared references, regular
# expressions, MIME, UUIDs, sets, IP addresses), and unassigned ones.
CBOR_TAGS = st.sampled_from(
    [0, 1, 2, 3, 4, 5, 21, 24, 25, 28, 29, 30, 35, 36, 37, 256, 258, 260, 261, 55799]
) | st.integers(0, 2**64 - 1)
CBOR_LEAVES = (
    st.none()
    | st.booleans()
    | st.integers()
    | HUGE_INTEGERS
    | st.floats()
    | st.text(max_size=40)
    | st.binary(max_size=64)
    | st.just(cbor2.undefined)
    | st.builds(cbor2.CBORSimpleValue, st.integers(0, 19) | st.integers(32, 255))
)
CBOR_KEYS = st.integers(-8, 8) | st.integers() | st.text(max_size=12) | st.binary(max_size=8)
CBOR_VALUES = st.recursive(
    CBOR_LEAVES,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(CBOR_KEYS, inner, max_size=4)
        | st.builds(cbor2.CBORTag, CBOR_TAGS, inner)
    ),
    max_leaves=12,
)


def _head(major: int, value: int) -> bytes:
    if value < 24:
        return bytes([major << 5 | value])
    for info, size in ((24, 1), (25, 2), (26, 4), (27, 8)):
        if value < 1 << (8 * size):
            return bytes([major << 5 | info]) + value.to_bytes(size, "big")
    raise ValueError(value)


def _raw_containers(inner: st.SearchStrategy[bytes]) -> st.SearchStrategy[bytes]:
    pairs = st.lists(st.tuples(inner, inner), max_size=3)
    return (
        st.lists(inner, max_size=4).map(lambda xs: _head(4, len(xs)) + b"".join(xs))
        | st.lists(inner, max_size=4).map(lambda xs: b"\x9f" + b"".join(xs) + b"\xff")
        | pairs.map(lambda ps: _head(5, len(ps)) + b"".join(k + v for k, v in ps))
        | pairs.map(lambda ps: b"\xbf" + b"".join(k + v for k, v in ps) + b"\xff")
        | st.tuples(CBOR_TAGS, inner).map(lambda t: _head(6, t[0]) + t[1])
        # A container that says it holds more than it does.
        | st.tuples(st.sampled_from([0x9A, 0x9B, 0xBA, 0xBB]), inner).map(
            lambda t: bytes([t[0]]) + b"\xff" * (4 if t[0] & 1 == 0 else 8) + t[1]
        )
    )


CBOR_RAW_LEAVES = (
    CBOR_LEAVES.map(cbor2.dumps)
    | st.lists(st.binary(max_size=8), max_size=3).map(  # indefinite-length byte string
        lambda chunks: b"\x5f" + b"".join(_head(2, len(c)) + c for c in chunks) + b"\xff"
    )
    | st.lists(st.text(max_size=8), max_size=3).map(  # indefinite-length text string
        lambda chunks: (
            b"\x7f" + b"".join(_head(3, len(c.encode())) + c.encode() for c in chunks) + b"\xff"
        )
    )
    | st.integers(0, 23).map(lambda n: b"\x1b" + n.to_bytes(8, "big"))  # not the shortest form
    | st.sampled_from([b"\x5b" + b"\xff" * 8, b"\x7b" + b"\x7f" + b"\xff" * 7])  # huge lengths
    | st.binary(min_size=1, max_size=6)  # anything, including reserved and break bytes
)
CBOR_RAW = st.recursive(CBOR_RAW_LEAVES, _raw_containers, max_leaves=16)
CBOR_ENCODED = CBOR_VALUES.map(cbor2.dumps) | CBOR_RAW

DEPTH = st.integers(1, 5000)
DEEP_CBOR = st.one_of(
    DEPTH.map(lambda n: b"\x81" * n + b"\x00"),  # [[[...0]]]
    DEPTH.map(lambda n: b"\xa1\x01" * n + b"\x00"),  # {1: {1: ... 0}}
    DEPTH.map(lambda n: b"\x9f" * n + b"\xff" * n),  # indefinite arrays
    DEPTH.map(lambda n: b"\xc6" * n + b"\x00"),  # tag on tag on tag
    DEPTH.map(lambda n: b"\xd8\x1c" + b"\x81" * n + b"\xd8\x1d\x00"),  # a shared reference cycle
)

# --- clientDataJSON -----------------------------------------------------------------------------

CHALLENGE = b"\x07" * 32
FUZZ_ORIGIN = "https://example.com"
FUZZ_RP_ID = "example.com"
GOOD_CLIENT_DATA = {
    "type": "webauthn.create",
    "challenge": b64url(CHALLENGE),
    "origin": FUZZ_ORIGIN,
}


@st.composite
def client_data_objects(draw: st.DrawFn) -> dict[str, Any]:
    data: dict[str, Any] = dict(GOOD_CLIENT_DATA)
    for key in draw(st.lists(st.sampled_from(sorted(data)), unique=True)):
        del data[key]
    names = st.sampled_from(["type", "challenge", "origin", "crossOrigin", "topOrigin", "x"])
    for key in draw(st.lists(names, max_size=3)):
        data[key] = draw(
            JSON_VALUES
            | st.sampled_from(["webauthn.create", "webauthn.get", FUZZ_ORIGIN, "\ud800", "\udfff"])
        )
    return data


DEEP_JSON = st.one_of(
    DEPTH.map(lambda n: b"[" * n + b"]" * n),
    DEPTH.map(lambda n: b'{"a":' * n + b"1" + b"}" * n),
    DEPTH.map(lambda n: b'{"type":' + b"[" * n),
)
CLIENT_DATA_BYTES = st.one_of(
    st.binary(max_size=200),
    client_data_objects().map(lambda d: json.dumps(d).encode()),
    client_data_objects().map(
        lambda d: json.dumps(d, ensure_ascii=False).encode("utf-8", "replace")
    ),
    DEEP_JSON,
    st.sampled_from([b"1" * 5000, b'{"a":' + b"1" * 5000 + b"}", b"\xff\xfe", b"\xef\xbb\xbf{}"]),
)


@FUZZ
@given(raw=CLIENT_DATA_BYTES, expected_type=st.sampled_from(["webauthn.create", "webauthn.get"]))
@example(raw=b"[" * 50_000, expected_type="webauthn.create")
@example(
    raw=json.dumps(dict(GOOD_CLIENT_DATA, type="\ud800")).encode(), expected_type="webauthn.get"
)
def test_client_data_json(raw: bytes, expected_type: str) -> None:
    parsed = _outcome(lambda: parse_client_data(raw))
    if isinstance(parsed, LatchkeyError):
        assert isinstance(parsed, MalformedResponse)
        return
    assert isinstance(parsed.type, str)
    assert isinstance(parsed.origin, str)
    assert isinstance(parsed.challenge, bytes)
    checked = _outcome(
        lambda: check_client_data(
            parsed, expected_type=expected_type, expected_challenge=CHALLENGE, origins=[FUZZ_ORIGIN]
        )
    )
    if not isinstance(checked, LatchkeyError):
        assert parsed.type == expected_type
        assert parsed.challenge == CHALLENGE
        assert parsed.origin == FUZZ_ORIGIN


def _stdlib_loads(raw: bytes) -> Any:
    return json.loads(raw.decode("utf-8"))


def _parsed_as(loads: Callable[[bytes], Any], raw: bytes) -> Any:
    with mock.patch.object(client_data, "_loads", loads):
        try:
            return parse_client_data(raw)
        except LatchkeyError as error:
            return (type(error), error.message)


JSON_EDGES = st.sampled_from(
    [
        b'{"type":"webauthn.get","type":"webauthn.create"}',
        b'{"crossOrigin":NaN}',
        b'{"crossOrigin":1e400}',
        b'{"crossOrigin":123456789012345678901234567890}',
        b'{"challenge":18446744073709551616}',
        b'{"origin":"\\ud800"}',
        b'{"x":"\\udfff","type":"webauthn.get","origin":"o","challenge":"AAAA"}',
        b'{"type":"webauthn.get","origin":"o","challenge":"AAAA","x":"\\ud83d\\ude00"}',
        b'{"type":"webauthn.get","origin":"o","challenge":"AAAA"}\x00',
        b'\xef\xbb\xbf{"type":"webauthn.get","origin":"o","challenge":"AAAA"}',
        b'{"type":"webauthn.get","origin":"\xed\xa0\x80","challenge":"AAAA"}',
        b' {"type":"webauthn.get","origin":"o","challenge":"AAAA"}\r\n\t',
    ]
)


@FUZZ
@given(raw=CLIENT_DATA_BYTES | JSON_EDGES)
def test_client_data_json_is_read_as_the_standard_library_reads_it(raw: bytes) -> None:
    # orjson answers first (client_data._loads): never otherwise than json.loads alone.
    assert _parsed_as(client_data._loads, raw) == _parsed_as(_stdlib_loads, raw)


# --- authenticator data -------------------------------------------------------------------------


@FUZZ
@given(raw=st.binary(min_size=37, max_size=37) | st.binary(max_size=80))
def test_authenticator_data_header_is_read_as_py_webauthn_reads_it(raw: bytes) -> None:
    # parse_auth_data reads a header-only authenticator data itself.
    try:
        expected: Any = parse_authenticator_data(raw)
    except Exception:
        expected = MalformedResponse
    try:
        found: Any = parse_auth_data(raw)
    except MalformedResponse:
        found = MalformedResponse
    assert found == expected


RP_HASH = hashlib.sha256(FUZZ_RP_ID.encode()).digest()
CREDENTIAL_ID = b"\x5a" * 16


def _real_keys() -> list[bytes]:
    keys = {
        _b64(v["expected"]["credential_public_key"])
        for v in VECTORS.values()
        if v["ceremony"] == "registration" and "credential_public_key" in v["expected"]
    }
    return sorted(keys)


REAL_KEYS = _real_keys()
KTY = st.sampled_from([1, 2, 3, 7]) | CBOR_VALUES
ALG = st.sampled_from([-7, -8, -35, -36, -37, -38, -39, -48, -49, -50, -257, -258, -259, -65535])
COSE_PARTS = {
    1: KTY,
    3: ALG | CBOR_VALUES,
    -1: st.sampled_from([1, 2, 3, 4, 5, 6, 7]) | st.binary(max_size=300) | CBOR_VALUES,
    -2: st.binary(max_size=80) | CBOR_VALUES,
    -3: st.binary(max_size=80) | st.booleans() | CBOR_VALUES,
    -4: st.binary(max_size=40) | CBOR_VALUES,
}


@st.composite
def cose_maps(draw: st.DrawFn) -> bytes:
    """A COSE_Key map with the labels WebAuthn uses, some missing, some of the wrong type."""
    key: dict[Any, Any] = {}
    for label, values in COSE_PARTS.items():
        if draw(st.integers(0, 4)):
            key[label] = draw(values)
    if draw(st.booleans()):
        key[draw(CBOR_KEYS)] = draw(CBOR_VALUES)
    return cbor2.dumps(key)


def _bignum_cose_key(label: int, digits_bytes: int, negative: bool) -> bytes:
    """An EC2 key whose `label` holds a CBOR bignum (tag 2/3) of `digits_bytes` bytes: a Python
    int of thousands of decimal digits once decoded, built without making it here."""
    key: dict[int, Any] = {1: 2, 3: -7, -1: 1, -2: b"\x01" * 32, -3: b"\x02" * 32}
    key[label] = cbor2.CBORTag(3 if negative else 2, b"\xff" * digits_bytes)
    return cast(bytes, cbor2.dumps(key))


COSE_KEYS = st.one_of(
    st.sampled_from(REAL_KEYS or [b"\xa0"]),
    st.builds(_bignum_cose_key, st.sampled_from([1, 3, -1]), st.integers(8, 3000), st.booleans()),
    cose_maps(),
    CBOR_ENCODED,
    DEEP_CBOR,
    st.binary(max_size=100),
    st.binary(max_size=64).map(lambda b: b"\x04" + b),  # the "uncompressed point" shortcut
)


AUTH_DATA_PARTS = ("rpIdHash", "flags", "credentialId", "length", "key", "extensions", "tail")


@st.composite
def auth_data_bytes(draw: st.DrawFn) -> bytes:
    """authenticatorData laid out as §6.1 says, right except for a few parts: so that most
    examples get past the first check and reach the parsers and checks behind it."""
    broken = draw(st.sets(st.sampled_from(AUTH_DATA_PARTS), max_size=3), label="broken")
    rp_hash = draw(st.binary(min_size=32, max_size=32)) if "rpIdHash" in broken else RP_HASH
    flags = draw(st.integers(0, 255)) if "flags" in broken else draw(st.sampled_from([0x45, 0x5D]))
    data = rp_hash + bytes([flags]) + draw(st.binary(min_size=4, max_size=4))
    if flags & 0x40 or "credentialId" in broken:
        credential_id = draw(st.binary(max_size=40)) if "credentialId" in broken else CREDENTIAL_ID
        length = draw(st.integers(0, 0xFFFF)) if "length" in broken else len(credential_id)
        data += draw(st.binary(min_size=16, max_size=16)) + struct.pack(">H", length)
        key = draw(COSE_KEYS) if "key" in broken else draw(st.sampled_from(REAL_KEYS or [b""]))
        data += credential_id + key
    if flags & 0x80 or "extensions" in broken:
        data += draw(CBOR_ENCODED | DEEP_CBOR | st.just(cbor2.dumps({"credProtect": 2})))
    return data + (draw(st.binary(min_size=1, max_size=8)) if "tail" in broken else b"")


AUTH_DATA = auth_data_bytes() | st.binary(max_size=120)


@FUZZ
@given(raw=AUTH_DATA, up=st.booleans(), uv=st.booleans())
def test_authenticator_data(raw: bytes, up: bool, uv: bool) -> None:
    parsed = _outcome(lambda: parse_auth_data(raw))
    if isinstance(parsed, LatchkeyError):
        assert isinstance(parsed, MalformedResponse)
        return
    _outcome(
        lambda: check_auth_data(
            parsed, rp_id=FUZZ_RP_ID, require_user_presence=up, require_user_verification=uv
        )
    )


# --- COSE keys ----------------------------------------------------------------------------------


@FUZZ
@given(cose=COSE_KEYS, signature=st.binary(max_size=600))
def test_cose_public_key_and_signature(cose: bytes, signature: bytes) -> None:
    """A stored key is loaded when a sign-in is checked; a garbage one is refused cleanly."""
    loaded = _outcome(lambda: load_public_key(cose))
    if isinstance(loaded, LatchkeyError):
        assert isinstance(loaded, MalformedResponse)
        return
    vector = VECTORS.get(AUTHENTICATIONS[0])
    if vector is None:
        return
    credential = dict(vector["credential"])
    credential["response"] = dict(credential["response"], signature=b64url(signature))
    result = _outcome(lambda: _authenticate(vector, credential, cose))
    assert isinstance(result, LatchkeyError)  # a random signature never verifies


# --- attestation objects ------------------------------------------------------------------------


def _x5c_certificates() -> list[bytes]:
    found: set[bytes] = set()
    for vector_id in REGISTRATIONS:
        vector = VECTORS.get(vector_id)
        if vector is None:
            continue
        obj = cbor2.loads(_b64(vector["credential"]["response"]["attestationObject"]))
        x5c = obj.get("attStmt", {}).get("x5c") or []
        found.update(x for x in x5c if isinstance(x, bytes))
    return sorted(found)


CERTIFICATES = _x5c_certificates()
CERTIFICATE = st.sampled_from(CERTIFICATES or [b"\x30\x00"])
X5C = st.one_of(
    st.lists(CERTIFICATE | st.binary(max_size=64) | CBOR_VALUES, max_size=3),
    CBOR_VALUES,
    st.tuples(CERTIFICATE, st.integers(0, 2000), st.integers(1, 255)).map(
        lambda t: [t[0][: t[1]] + bytes([t[0][t[1] % len(t[0])] ^ t[2]]) + t[0][t[1] + 1 :]]
    ),
)
STATEMENT_PARTS = {
    "alg": ALG | CBOR_VALUES,
    "sig": st.binary(max_size=128) | CBOR_VALUES,
    "x5c": X5C,
    "ver": st.sampled_from(["2.0", "1"]) | CBOR_VALUES,
    "certInfo": st.binary(max_size=200) | CBOR_VALUES,
    "pubArea": st.binary(max_size=200) | CBOR_VALUES,
    "response": st.binary(max_size=200) | CBOR_VALUES,
}
FORMATS = st.sampled_from(
    ["none", "packed", "fido-u2f", "tpm", "android-key", "android-safetynet", "apple", "compound"]
)


@st.composite
def statements(draw: st.DrawFn) -> Any:
    if draw(st.integers(0, 5)) == 0:
        return draw(CBOR_VALUES)
    return {name: draw(values) for name, values in STATEMENT_PARTS.items() if draw(st.booleans())}


@st.composite
def attestation_objects(draw: st.DrawFn) -> bytes:
    broken = draw(st.sets(st.sampled_from(["fmt", "authData", "keys"]), max_size=2))
    parts: dict[Any, Any] = {
        "fmt": draw(FORMATS | CBOR_VALUES) if "fmt" in broken else draw(FORMATS),
        "attStmt": draw(statements()),
        "authData": draw(AUTH_DATA | CBOR_VALUES) if "authData" in broken else draw(AUTH_DATA),
    }
    if "keys" in broken:
        for key in draw(st.lists(st.sampled_from(sorted(parts)), unique=True, max_size=2)):
            del parts[key]
        parts[draw(CBOR_KEYS)] = draw(CBOR_VALUES)
    if draw(st.booleans()):
        return cast(bytes, cbor2.dumps(parts))
    # The same map with an indefinite length, and its values in another order.
    items = draw(st.permutations(list(parts.items())))
    return b"\xbf" + b"".join(cbor2.dumps(k) + cbor2.dumps(v) for k, v in items) + b"\xff"


ATTESTATION_OBJECTS = st.one_of(
    attestation_objects(), CBOR_ENCODED, DEEP_CBOR, st.binary(max_size=200)
)


def _fuzz_registration(attestation_object: bytes, client_data: bytes | None = None) -> Any:
    credential = {
        "id": b64url(CREDENTIAL_ID),
        "rawId": b64url(CREDENTIAL_ID),
        "type": "public-key",
        "response": {
            "clientDataJSON": b64url(client_data or json.dumps(GOOD_CLIENT_DATA).encode()),
            "attestationObject": b64url(attestation_object),
        },
    }
    return verify_registration_response(
        credential=credential,
        expected_challenge=CHALLENGE,
        rp_id=FUZZ_RP_ID,
        origins=[FUZZ_ORIGIN],
        allowed_algorithms=[-7, -8, -35, -36, -37, -38, -39, -257, -258, -259, -48, -49, -50],
        require_user_verification=False,
    )


@FUZZ
@given(attestation_object=ATTESTATION_OBJECTS)
def test_attestation_object(attestation_object: bytes) -> None:
    result = _outcome(lambda: _fuzz_registration(attestation_object))
    if not isinstance(result, LatchkeyError):
        # Only an unsigned statement with a usable key for this RP can pass.
        assert result.fmt == "none"
        assert result.credential_id == CREDENTIAL_ID


# --- credential JSON shapes and the base64url helpers -------------------------------------------

B64_FIELD = st.binary(max_size=64).map(b64url) | JSON_VALUES | st.text(max_size=20)


@st.composite
def credential_shapes(draw: st.DrawFn) -> Any:
    if draw(st.integers(0, 6)) == 0:
        return draw(JSON_VALUES)  # not even an object
    credential: dict[str, Any] = {}
    for name in ("id", "rawId"):
        if draw(st.integers(0, 5)):
            credential[name] = draw(st.just(b64url(CREDENTIAL_ID)) | B64_FIELD)
    if draw(st.integers(0, 5)):
        credential["type"] = draw(st.just("public-key") | JSON_VALUES)
    if draw(st.integers(0, 5)):
        response_names = st.sampled_from(
            ["clientDataJSON", "attestationObject", "authenticatorData", "signature", "userHandle"]
        )
        credential["response"] = draw(
            st.dictionaries(response_names, B64_FIELD, max_size=5) | JSON_VALUES
        )
    for name in ("clientExtensionResults", "authenticatorAttachment", "transports"):
        if draw(st.booleans()):
            credential[name] = draw(JSON_VALUES)
    return credential


@FUZZ
@given(credential=credential_shapes(), public_key=COSE_KEYS)
@example(credential=["not", "an", "object"], public_key=b"\xa0")
def test_credential_json_shapes(credential: Any, public_key: bytes) -> None:
    for call in (
        lambda: read_assertion_identity(credential),
        lambda: credential_raw_id(credential),
        lambda: response_part(credential, "clientDataJSON"),
        lambda: verify_registration_response(
            credential=credential,
            expected_challenge=CHALLENGE,
            rp_id=FUZZ_RP_ID,
            origins=[FUZZ_ORIGIN],
            allowed_algorithms=[-7],
            require_user_verification=False,
        ),
        lambda: verify_authentication_response(
            credential=credential,
            expected_challenge=CHALLENGE,
            rp_id=FUZZ_RP_ID,
            origins=[FUZZ_ORIGIN],
            public_key=public_key,
            stored_sign_count=0,
            owner_user_handle=None,
            require_user_verification=False,
        ),
    ):
        _outcome(call)


@FUZZ
@given(value=JSON_VALUES | st.text(), data=st.binary(max_size=100))
def test_base64url_helpers(value: Any, data: bytes) -> None:
    assert decode_b64url(b64url(data), field="x") == data
    decoded = _outcome(lambda: decode_b64url(value, field="x"))
    assert isinstance(decoded, bytes | MalformedResponse)


# --- mutations of real responses ----------------------------------------------------------------

BYTE_OPS = ("flip", "head", "truncate", "extend", "insert", "delete", "replace", "random")


def _position(data: st.DataObject, raw: bytes, label: str) -> int:
    # Drawn independently of the input's length (a fresh key or signature may be a byte longer
    # from one example to the next), then folded onto it.
    return data.draw(st.integers(0, 0xFFFF), label=label) % len(raw)


def _mutate_bytes(data: st.DataObject, raw: bytes) -> bytes:
    op = data.draw(st.sampled_from(BYTE_OPS), label="byte edit")
    if op == "random":
        return data.draw(st.binary(max_size=512))
    if op == "extend" or not raw:
        return raw + data.draw(st.binary(min_size=1, max_size=64) | CBOR_ENCODED)
    i = _position(data, raw, "at")
    if op == "head":  # the first bytes: CBOR and DER headers, lengths, a certificate's version
        i = data.draw(st.integers(0, 31), label="at") % len(raw)
        op = "flip"
    j = min(len(raw), i + 1 + data.draw(st.integers(0, 63), label="length"))
    if op == "flip":
        return raw[:i] + bytes([raw[i] ^ data.draw(st.integers(1, 255))]) + raw[i + 1 :]
    if op == "truncate":
        return raw[:i]
    if op == "insert":
        return raw[:i] + data.draw(st.binary(min_size=1, max_size=16)) + raw[i:]
    if op == "delete":
        return raw[:i] + raw[j:]
    return raw[:i] + data.draw(st.binary(min_size=1, max_size=72)) + raw[j:]


def _split_auth_data(auth_data: bytes) -> tuple[bytes, bytes, bytes] | None:
    """(up to the credential id, the COSE key, the extensions) of authData with AT set."""
    if len(auth_data) < 55 or not auth_data[32] & 0x40:
        return None
    start = 55 + int.from_bytes(auth_data[53:55], "big")
    stream = io.BytesIO(auth_data[start:])
    cbor2.CBORDecoder(stream).decode()
    end = start + stream.tell()
    return auth_data[:start], auth_data[start:end], auth_data[end:]


def _mutate_cose(data: st.DataObject, cose: bytes) -> bytes:
    key = cbor2.loads(cose)
    op = data.draw(st.sampled_from(["set", "delete", "bytes", "replace"]), label="COSE edit")
    if op == "bytes":
        return _mutate_bytes(data, cose)
    if op == "replace":
        return data.draw(COSE_KEYS)
    label = data.draw(st.sampled_from([*key, *COSE_PARTS, 2, 4, -5]) | CBOR_KEYS, label="label")
    if op == "delete":
        key.pop(label, None)
    else:
        key[label] = data.draw(COSE_PARTS.get(label, CBOR_VALUES), label="value")
    return cast(bytes, cbor2.dumps(key))


def _mutate_auth_data(data: st.DataObject, auth_data: bytes) -> bytes:
    op = data.draw(st.sampled_from(["bytes", "flags", "cose", "extensions"]), label="authData")
    if op == "flags" and len(auth_data) > 32:
        flags = data.draw(st.integers(0, 255), label="flags")
        return auth_data[:32] + bytes([flags]) + auth_data[33:]
    split = _split_auth_data(auth_data)
    if op == "cose" and split is not None:
        return split[0] + _mutate_cose(data, split[1]) + split[2]
    if op == "extensions" and len(auth_data) > 32:
        # Claim extensions (ED) and append a CBOR item, or edit the ones already there.
        flagged = auth_data[:32] + bytes([auth_data[32] | 0x80]) + auth_data[33:]
        if split is not None and split[2]:
            return split[0] + split[1] + _mutate_bytes(data, split[2])
        return flagged + data.draw(CBOR_ENCODED | DEEP_CBOR, label="extensions")
    return _mutate_bytes(data, auth_data)


def _mutate_statement(data: st.DataObject, statement: Any) -> Any:
    if not isinstance(statement, dict) or data.draw(st.integers(0, 9)) == 0:
        return data.draw(CBOR_VALUES)
    statement = dict(statement)
    name = data.draw(st.sampled_from(sorted({*statement, *STATEMENT_PARTS})), label="attStmt")
    value = statement.get(name)
    op = data.draw(st.sampled_from(["set", "delete", "edit"]), label="attStmt edit")
    if op == "delete":
        statement.pop(name, None)
    elif op == "edit" and isinstance(value, bytes):
        statement[name] = _mutate_bytes(data, value)
    elif op == "edit" and isinstance(value, list) and value:
        i = data.draw(st.integers(0, 7), label="certificate") % len(value)
        edited = list(value)
        if isinstance(edited[i], bytes) and data.draw(st.booleans()):
            edited[i] = _mutate_bytes(data, edited[i])
        else:
            edited[i] = data.draw(CBOR_VALUES | CERTIFICATE)
        statement[name] = edited
    else:
        statement[name] = data.draw(STATEMENT_PARTS.get(name, CBOR_VALUES), label="value")
    return statement


ATTESTATION_EDITS = ("bytes", "authData", "attStmt", "fmt", "keys", "swap", "wrong type")


def _mutate_attestation_object(
    data: st.DataObject, raw: bytes, edits: tuple[str, ...] = ATTESTATION_EDITS
) -> bytes:
    target = data.draw(st.sampled_from(edits), label="attestationObject")
    if target == "bytes":
        return _mutate_bytes(data, raw)
    obj: dict[Any, Any] = cbor2.loads(raw)
    if target == "authData":
        obj["authData"] = _mutate_auth_data(data, obj["authData"])
    elif target == "attStmt":
        obj["attStmt"] = _mutate_statement(data, obj.get("attStmt"))
    elif target == "fmt":
        obj["fmt"] = data.draw(FORMATS | CBOR_VALUES, label="fmt")
    elif target == "keys":
        for key in data.draw(st.lists(st.sampled_from(sorted(obj)), max_size=2, unique=True)):
            del obj[key]
        obj[data.draw(CBOR_KEYS | st.sampled_from(["fmt", "attStmt", "authData"]))] = data.draw(
            CBOR_VALUES
        )
    elif target == "swap":
        a, b = data.draw(st.permutations(["fmt", "attStmt", "authData"]))[:2]
        obj[a], obj[b] = obj.get(b), obj.get(a)
    else:
        name = data.draw(st.sampled_from(["fmt", "attStmt", "authData"]), label="field")
        original = obj.get(name)
        obj[name] = data.draw(
            CBOR_VALUES
            # Built by map(): hypothesis labels a just() by hashing its value.
            | st.none().map(lambda _: list(original) if isinstance(original, bytes) else [original])
            | st.none().map(
                lambda _: original.decode("latin-1") if isinstance(original, bytes) else original
            )
            | st.none().map(lambda _: cbor2.CBORTag(24, original))
        )
    return cast(bytes, cbor2.dumps(obj))


def _mutate_client_data(data: st.DataObject, raw: bytes) -> bytes:
    if data.draw(st.booleans(), label="client data as bytes"):
        return _mutate_bytes(data, raw)
    parsed = json.loads(raw)
    name = data.draw(
        st.sampled_from(
            sorted({*parsed, "type", "challenge", "origin", "crossOrigin", "topOrigin"})
        )
    )
    if data.draw(st.booleans()):
        parsed.pop(name, None)
    else:
        parsed[name] = data.draw(JSON_VALUES | st.sampled_from(["\ud800", "x" * 5000]))
    return json.dumps(parsed).encode()


RESPONSE_PARTS = {
    "registration": ("clientDataJSON", "attestationObject"),
    "authentication": ("clientDataJSON", "authenticatorData", "signature", "userHandle"),
}


CREDENTIAL_EDITS = ("response part", "clientDataJSON", "json field", "response field")


def _mutate_credential(
    data: st.DataObject,
    vector: Mapping[str, Any],
    edits: tuple[str, ...] = CREDENTIAL_EDITS,
    attestation_edits: tuple[str, ...] = ATTESTATION_EDITS,
) -> dict[str, Any]:
    credential = json.loads(json.dumps(vector["credential"]))
    response = credential["response"]
    ceremony = vector["ceremony"]
    target = data.draw(st.sampled_from(edits), label="target")
    if target == "clientDataJSON":
        response["clientDataJSON"] = b64url(
            _mutate_client_data(data, _b64(response["clientDataJSON"]))
        )
    elif target == "json field":
        name = data.draw(st.sampled_from(sorted({*credential, "id", "rawId", "type"})))
        if data.draw(st.booleans()):
            credential.pop(name, None)
        else:
            credential[name] = data.draw(B64_FIELD)
    elif target == "response field":
        name = data.draw(st.sampled_from(sorted({*response, *RESPONSE_PARTS[ceremony]})))
        if data.draw(st.booleans()):
            response.pop(name, None)
        else:
            response[name] = data.draw(B64_FIELD)
    elif target == "attestationObject":
        raw = _b64(response["attestationObject"])
        response["attestationObject"] = b64url(
            _mutate_attestation_object(data, raw, attestation_edits)
        )
    else:
        name = data.draw(st.sampled_from(RESPONSE_PARTS[ceremony]), label="part")
        raw = _b64(response.get(name) or "")
        if name == "attestationObject":
            raw = _mutate_attestation_object(data, raw, attestation_edits)
        elif name == "authenticatorData":
            raw = _mutate_auth_data(data, raw)
        else:
            raw = _mutate_bytes(data, raw)
        response[name] = b64url(raw)
    return cast(dict[str, Any], credential)


def _spki(cose: bytes) -> bytes:
    return load_public_key(cose).key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _registration_view(fmt: str, credential: Any) -> tuple[Any, ...]:
    """What the attestation signs, as the verifier reads it: none signs nothing; fido-u2f signs
    the RP ID hash, the credential id and the key's x and y (not its other COSE labels); the
    others sign all of authData."""
    client_data = _field(credential, "clientDataJSON")
    auth_data = cbor2.loads(_field(credential, "attestationObject") or b"\xa0").get("authData")
    if fmt == "none":
        return ()
    if fmt == "fido-u2f":
        parsed = parse_auth_data(auth_data)
        attested = parsed.attested_credential_data
        assert attested is not None
        key = attested.credential_public_key
        return (client_data, parsed.rp_id_hash, attested.credential_id, _spki(key))
    return (client_data, auth_data)


@functools.cache
def _baseline(vector_id: str) -> Any:
    vector = VECTORS[vector_id]
    return _outcome(lambda: _register(vector, vector["credential"]))


def _check_mutated_registration(vector_id: str, mutated: dict[str, Any]) -> None:
    vector = VECTORS[vector_id]
    result = _outcome(lambda: _register(vector, mutated))
    if isinstance(result, LatchkeyError):
        return
    # An accepted mutation changed nothing the attestation vouches for.
    baseline = _baseline(vector_id)
    assert not isinstance(baseline, LatchkeyError), f"a rejected response became {result}"
    fmt = baseline.fmt
    assert result.fmt == fmt
    assert _registration_view(fmt, mutated) == _registration_view(fmt, vector["credential"])
    if fmt != "none":
        assert result.credential_id == baseline.credential_id
        assert (result.alg, _spki(result.public_key)) == (baseline.alg, _spki(baseline.public_key))


SIGNED_REGISTRATIONS = tuple(
    v for v in REGISTRATIONS if v in VECTORS and VECTORS[v]["expected"].get("fmt") != "none"
)


@needs_corpus
@FUZZ
@given(vector_id=st.sampled_from(REGISTRATIONS), data=st.data())
def test_mutated_real_registrations(vector_id: str, data: st.DataObject) -> None:
    _check_mutated_registration(vector_id, _mutate_credential(data, VECTORS[vector_id]))


@needs_corpus
@FUZZ
@given(vector_id=st.sampled_from(SIGNED_REGISTRATIONS or ("",)), data=st.data())
def test_mutated_real_attestation_statements(vector_id: str, data: st.DataObject) -> None:
    """fmt and attStmt (signatures, x5c certificates, TPM structures, SafetyNet JWS) only:
    everything else in the response stays valid, so every statement parser is reached."""
    mutated = _mutate_credential(
        data, VECTORS[vector_id], ("attestationObject",), ("attStmt", "attStmt", "fmt")
    )
    _check_mutated_registration(vector_id, mutated)


@needs_corpus
@FUZZ
@given(vector_id=st.sampled_from(REGISTRATIONS), data=st.data())
def test_mutated_real_registration_authenticator_data(vector_id: str, data: st.DataObject) -> None:
    """authData inside the attestation object: flags, attested credential data, COSE key and
    extensions."""
    mutated = _mutate_credential(data, VECTORS[vector_id], ("attestationObject",), ("authData",))
    _check_mutated_registration(vector_id, mutated)


@needs_corpus
@FUZZ
@given(vector_id=st.sampled_from(AUTHENTICATIONS), data=st.data())
def test_mutated_real_assertions(vector_id: str, data: st.DataObject) -> None:
    vector = VECTORS[vector_id]
    original = vector["credential"]
    key = _b64(vector["credential_public_key"])
    mutated = _mutate_credential(data, vector)
    result = _outcome(lambda: _authenticate(vector, mutated, key))
    if isinstance(result, LatchkeyError):
        return
    # Accepted: the signed bytes, the signature and the credential are the original ones.
    for name in ("clientDataJSON", "authenticatorData", "signature"):
        assert _field(mutated, name) == _field(original, name), name
    assert _decoded(mutated["rawId"]) == _decoded(original["rawId"])
    # An empty userHandle is no userHandle; with no known owner there is nothing to compare.
    owner = _owner(vector)
    if owner is not None:
        assert (_field(mutated, "userHandle") or None) in (None, owner)


@needs_corpus
@FUZZ
@given(vector_id=st.sampled_from(AUTHENTICATIONS), data=st.data())
def test_mutated_stored_public_keys(vector_id: str, data: st.DataObject) -> None:
    """The stored COSE key, as the database hands it back, damaged or replaced."""
    vector = VECTORS[vector_id]
    original = _b64(vector["credential_public_key"])
    key = _mutate_cose(data, original)
    result = _outcome(lambda: _authenticate(vector, vector["credential"], key))
    if not isinstance(result, LatchkeyError):
        # Only an encoding of the same key (say, with an extra label) still verifies.
        same = serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        assert load_public_key(key).key.public_bytes(*same) == load_public_key(
            original
        ).key.public_bytes(*same)


# --- regressions: each input the fuzzing found, kept as a plain test ---------------------------


def _with_attestation(vector_id: str, edit: Callable[[dict[Any, Any]], None]) -> dict[str, Any]:
    """The vector's credential with its decoded attestation object edited in place."""
    credential = json.loads(json.dumps(VECTORS[vector_id]["credential"]))
    obj = cbor2.loads(_b64(credential["response"]["attestationObject"]))
    edit(obj)
    credential["response"]["attestationObject"] = b64url(cbor2.dumps(obj))
    return cast(dict[str, Any], credential)


def _with_cose_key(vector_id: str, edit: Callable[[dict[Any, Any]], Any]) -> dict[str, Any]:
    def change(obj: dict[Any, Any]) -> None:
        split = _split_auth_data(obj["authData"])
        assert split is not None
        key = cbor2.loads(split[1])
        replaced = edit(key)
        new_key = replaced if isinstance(replaced, bytes) else cbor2.dumps(key)
        obj["authData"] = split[0] + new_key + split[2]

    return _with_attestation(vector_id, change)


def test_deeply_nested_client_data_json_is_malformed() -> None:
    # RecursionError from json.loads, found by test_client_data_json.
    with pytest.raises(MalformedResponse, match="nested too deeply"):
        parse_client_data(b"[" * 50_000)


@pytest.mark.parametrize("field", ["type", "origin", "topOrigin"])
def test_lone_surrogates_in_client_data_are_malformed(field: str) -> None:
    # "\ud800" reached the TypeMismatch / OriginMismatch message, which no JSON answer can
    # encode: the HTTP layer answered 500 "Unable to serialize response content".
    data = dict(GOOD_CLIENT_DATA, crossOrigin=True, **{field: "\ud800"})
    with pytest.raises(MalformedResponse, match="not valid Unicode"):
        parse_client_data(json.dumps(data).encode())


def test_long_client_data_values_are_cut_in_messages() -> None:
    parsed = parse_client_data(json.dumps(dict(GOOD_CLIENT_DATA, type="x" * 5000)).encode())
    with pytest.raises(LatchkeyError) as caught:
        check_client_data(
            parsed, expected_type="webauthn.create", expected_challenge=CHALLENGE, origins=[]
        )
    assert len(caught.value.message) < 200


@pytest.mark.parametrize("credential", [["not", "an", "object"], "x", None, 1])
def test_a_credential_that_is_not_an_object_is_malformed(credential: Any) -> None:
    # AttributeError: 'list' object has no attribute 'get', from credential_raw_id.
    for call in (read_assertion_identity, credential_raw_id):
        with pytest.raises(MalformedResponse):
            call(credential)


@pytest.mark.parametrize(
    "x5c",
    [True, ["abc"], [1], [None], "xx", b"\x30\x00", {0: b"x"}, [[b"x"]], 5],
    ids=["true", "text", "int", "null", "text", "bytes", "map", "nested", "int"],
)
def test_x5c_of_the_wrong_type_is_malformed(x5c: Any) -> None:
    # TypeError / KeyError from x5c[0] and load_der_x509_certificate.
    with pytest.raises(MalformedResponse, match="x5c"):
        check_aaguid_extension(x5c, bytes(16))
    with pytest.raises(MalformedResponse, match="x5c"):
        check_packed_certificate(x5c)


@needs_corpus
def test_packed_statement_with_x5c_true_is_malformed() -> None:
    # The minimal input test_mutated_real_attestation_statements found: attStmt.x5c = true.
    vector_id = "reg-swa-should-verify-packed-ec2-attestation"
    credential = _with_attestation(vector_id, lambda obj: obj["attStmt"].update(x5c=True))
    with pytest.raises(MalformedResponse, match="x5c"):
        _register(VECTORS[vector_id], credential)


def _certificate_with_duplicate_aaguid_extension() -> bytes:
    """A self-signed certificate whose id-fido-gen-ce-aaguid extension appears twice."""
    private = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "dup")])
    aaguid = x509.ObjectIdentifier("1.3.6.1.4.1.45724.1.1.4")
    other = x509.ObjectIdentifier("1.3.6.1.4.1.45724.1.1.5")  # the same length in DER
    value = b"\x04\x10" + bytes(16)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(private.public_key())
        .serial_number(1)
        .not_valid_before(datetime(2020, 1, 1))
        .not_valid_after(datetime(2040, 1, 1))
        .add_extension(x509.UnrecognizedExtension(aaguid, value), critical=False)
        .add_extension(x509.UnrecognizedExtension(other, value), critical=False)
        .sign(private, hashes.SHA256())
    )
    der = certificate.public_bytes(serialization.Encoding.DER)
    # The second OID's DER content ends in 05; make it 04, the AAGUID extension's.
    marker = bytes.fromhex("2b0601040182e51c010105")
    assert der.count(marker) == 1
    return der.replace(marker, bytes.fromhex("2b0601040182e51c010104"))


def test_certificate_with_a_duplicated_extension_is_malformed() -> None:
    # cryptography.x509.DuplicateExtension (not a ValueError) escaped check_aaguid_extension.
    with pytest.raises(MalformedResponse, match="cannot be parsed"):
        check_aaguid_extension([_certificate_with_duplicate_aaguid_extension()], bytes(16))


@needs_corpus
def test_certificate_with_an_unknown_version_is_malformed() -> None:
    # cryptography.x509.InvalidVersion (not a ValueError): byte 12 of a certificate is its
    # version (a0 03 02 01 02); flipped to 03, "3 is not a valid X509 version".
    vector_id = "reg-yubico-yubi-key5-nfc"

    def flip_version(obj: dict[Any, Any]) -> None:
        der = obj["attStmt"]["x5c"][0]
        assert der[8:13] == bytes.fromhex("a003020102")
        obj["attStmt"]["x5c"][0] = der[:12] + b"\x03" + der[13:]

    with pytest.raises(MalformedResponse, match="cannot be parsed"):
        _register(VECTORS[vector_id], _with_attestation(vector_id, flip_version))


@needs_corpus
def test_android_key_statement_relabelled_packed_is_refused() -> None:
    # Accepted before: android-key and packed statements share {alg, sig, x5c}, and py_webauthn
    # does not check §8.2.1's certificate requirements, so "packed" escaped the Google roots.
    vector_id = "reg-verify-attestation-android-key-hardware-authority"
    credential = _with_attestation(vector_id, lambda obj: obj.update(fmt="packed"))
    with pytest.raises(InvalidAttestation, match="Subject"):
        _register(VECTORS[vector_id], credential)


@needs_corpus
def test_fido_u2f_key_labelled_eddsa_is_malformed() -> None:
    # Accepted before: the U2F signature covers x and y, not the COSE alg, so an ES256 key
    # labelled EdDSA (-8) registered, and then could never sign in (§5.8.5: alg fixes kty, crv).
    vector_id = "reg-swa-should-verify-fido-u2f-attestation"
    credential = _with_cose_key(vector_id, lambda key: key.update({3: -8}))
    with pytest.raises(MalformedResponse, match="does not fit"):
        _register(VECTORS[vector_id], credential)


@needs_corpus
def test_stored_key_with_the_wrong_alg_for_its_curve_is_malformed() -> None:
    vector = VECTORS["auth-chromium-device-bound-es256"]
    key = cbor2.loads(_b64(vector["credential_public_key"]))
    key[3] = -36  # ES512 (P-521) for a P-256 key
    with pytest.raises(MalformedResponse, match="does not fit"):
        _authenticate(vector, vector["credential"], cbor2.dumps(key))


@needs_corpus
@pytest.mark.parametrize("negative", [False, True])
def test_bignum_algorithm_is_unsupported(negative: bool) -> None:
    # ValueError "Exceeds the limit (4300 digits) for integer string conversion": the alg, a
    # CBOR bignum, went into UnsupportedAlgorithm's message.
    key = _bignum_cose_key(3, 2048, negative)
    auth_data = RP_HASH + b"\x45" + bytes(4) + bytes(16) + struct.pack(">H", 16) + CREDENTIAL_ID
    attestation = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": auth_data + key})
    with pytest.raises(UnsupportedAlgorithm):
        _fuzz_registration(attestation)


@needs_corpus
def test_library_messages_are_cut() -> None:
    # A TPM statement over another key: py_webauthn quotes pubArea.unique in hex (1123 chars).
    rsa_key = _b64(
        VECTORS["reg-swa-should-verify-none-attestation-w-rsa-public-key"]["expected"][
            "credential_public_key"
        ]
    )
    vector_id = "reg-yubico-windows-hello-tpm"
    credential = _with_cose_key(vector_id, lambda key: rsa_key)
    with pytest.raises(InvalidAttestation) as caught:
        _register(VECTORS[vector_id], credential)
    assert len(caught.value.message) < 300


@pytest.mark.parametrize("field", ["type", "origin"])
def test_http_lone_surrogate_in_client_data_is_a_400(
    signed_up: tuple[Backend, Browser], field: str
) -> None:
    # Was: 500 {"errorCode": "http_error", "errorDescription": "Unable to serialize ..."}.
    _backend, browser = signed_up
    begun = browser.post("user-authenticators/passkey/authentication-options", {})
    assertion = browser.authenticator.get(begun.json()["options"], origin=browser.origin)
    client_data = json.loads(_b64(assertion["response"]["clientDataJSON"]))
    client_data[field] = "\ud800"
    assertion["response"]["clientDataJSON"] = b64url(json.dumps(client_data).encode())
    body = {"authenticationCredential": assertion, "challengeId": begun.json()["challengeId"]}
    answer = browser.post("verify/passkey", body)
    assert answer.status_code == 400, answer.text
    assert answer.json()["errorCode"] == "malformed_response"


# --- over HTTP: 4xx JSON, never a 5xx -----------------------------------------------------------


def _assert_clean_answer(answer: Any, *, shape: str) -> None:
    assert answer.status_code < 500, answer.text
    assert 400 <= answer.status_code < 500 or answer.status_code == 200, answer.text
    body = answer.json()
    if answer.status_code == 200:
        return
    if shape == "v1":
        assert set(body) == {"error", "errorCode", "errorDescription"}, body
    else:
        assert set(body) == {"error", "message"}, body


@pytest.fixture
def signed_up(backend: Backend, browser: Browser) -> tuple[Backend, Browser]:
    tracked = backend.track("fuzz-user", "add-passkey", username="fuzz@example.com")
    answer = browser.sign_up(tracked["token"])
    assert answer.status_code == 200, answer.text
    return backend, browser


def _as_vector(ceremony: str, credential: dict[str, Any]) -> dict[str, Any]:
    return {"ceremony": ceremony, "credential": credential}


@FUZZ_HTTP
@given(data=st.data())
def test_http_mutated_assertions_answer_4xx(
    signed_up: tuple[Backend, Browser], data: st.DataObject
) -> None:
    # Signed in with an action token from the backend, which no per-IP limit counts: every
    # example reaches the verifier, whatever the anonymous sign-in limit is.
    backend, browser = signed_up
    token = backend.track("fuzz-user", "sign-in")["token"]
    begun = browser.post("user-authenticators/passkey/authentication-options", {}, token)
    assert begun.status_code == 200, begun.text
    assertion = browser.authenticator.get(begun.json()["options"], origin=browser.origin)
    mutated = _mutate_credential(data, _as_vector("authentication", assertion))
    body = {"authenticationCredential": mutated, "challengeId": begun.json()["challengeId"]}
    _assert_clean_answer(browser.post("verify/passkey", body, token), shape="v1")


@FUZZ_HTTP
@given(data=st.data())
def test_http_mutated_registrations_answer_4xx(
    client: TestClient, tenant_and_secret: tuple[Tenant, str], data: st.DataObject
) -> None:
    tenant, secret = tenant_and_secret
    api = CeremonyClient(client, tenant.id, secret, ORIGIN)
    begun = api.post("registration/options", {"userId": "fuzz-user"})  # secret key: no limit
    assert begun.status_code == 200, begun.text
    attestation = data.draw(st.sampled_from(["none", "packed"]), label="fmt")
    created = SoftAuthenticator().create(
        begun.json()["options"], origin=ORIGIN, attestation=attestation
    )
    mutated = _mutate_credential(data, _as_vector("registration", created))
    body = {"challengeId": begun.json()["challengeId"], "credential": mutated}
    _assert_clean_answer(api.post("registration/verify", body), shape="ceremony")
