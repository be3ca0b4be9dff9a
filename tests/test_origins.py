"""RP ID and origin rules: each bad value is refused with a message naming it and the rule."""

from __future__ import annotations

import hashlib

import pytest

from latchkey.errors import ConfigError
from latchkey.services.origins import (
    android_origin,
    validate_origin,
    validate_origins,
    validate_rp_id,
)

APK_HASH = android_origin(hashlib.sha256(b"signing certificate").digest())


@pytest.mark.parametrize(
    ("origin", "rp_id"),
    [
        ("https://example.com", "example.com"),
        ("https://login.example.com", "example.com"),
        ("https://a.b.example.com:8443", "example.com"),
        ("http://localhost:5001", "localhost"),
        ("http://localhost", "localhost"),
        ("https://localhost:8443", "localhost"),
        ("http://app.localhost:3000", "localhost"),
        (APK_HASH, "example.com"),
    ],
)
def test_good_origins(origin: str, rp_id: str) -> None:
    assert validate_origin(origin, rp_id) == origin


@pytest.mark.parametrize(
    ("origin", "rp_id", "says"),
    [
        ("http://example.com", "example.com", "allowed only for localhost"),
        ("ftp://example.com", "example.com", "https://"),
        ("https://evil.com", "example.com", "neither the RP ID"),
        ("https://notexample.com", "example.com", "neither the RP ID"),
        ("https://example.com.evil.com", "example.com", "neither the RP ID"),
        ("https://example.com/path", "example.com", "no path"),
        ("https://example.com?q=1", "example.com", "no path"),
        ("https://user@example.com", "example.com", "no path"),
        ("https://Example.com", "example.com", "lower-case"),
        ("https://example.com:443", "example.com", "default port"),
        ("https://example.com:99999", "example.com", "invalid port"),
        ("http://localhost.evil.com", "localhost", "http://"),
        ("android:apk-key-hash:abc", "example.com", "32-byte"),
        ("android:apk-key-hash:" + "A" * 43 + "=", "example.com", "32-byte"),
        ("android:apk-key-hash:!!!", "example.com", "base64url"),
    ],
)
def test_bad_origins(origin: str, rp_id: str, says: str) -> None:
    with pytest.raises(ConfigError) as error:
        validate_origin(origin, rp_id)
    assert says in error.value.message
    assert repr(origin) in error.value.message


@pytest.mark.parametrize(
    "rp_id",
    ["Example.com", "https://example.com", "example.com:443", "127.0.0.1", "", "-bad.com", "a..b"],
)
def test_bad_rp_ids(rp_id: str) -> None:
    with pytest.raises(ConfigError):
        validate_rp_id(rp_id)


@pytest.mark.parametrize("rp_id", ["com", "co.uk", "github.io", "uk", "appspot.com"])
def test_public_suffixes_are_refused_as_rp_ids(rp_id: str) -> None:
    with pytest.raises(ConfigError, match=f"RP ID '{rp_id}' is a public suffix"):
        validate_rp_id(rp_id)


@pytest.mark.parametrize("rp_id", ["example.com", "example.co.uk", "alice.github.io", "localhost"])
def test_registrable_domains_are_rp_ids(rp_id: str) -> None:
    assert validate_rp_id(rp_id) == rp_id


def test_origins_need_one_and_no_duplicates() -> None:
    with pytest.raises(ConfigError, match="at least one"):
        validate_origins([], "example.com")
    with pytest.raises(ConfigError, match="twice"):
        validate_origins(["https://example.com", "https://example.com"], "example.com")


def test_android_origin_is_unpadded_base64url_of_the_digest() -> None:
    digest = bytes(range(32))
    assert (
        android_origin(digest) == "android:apk-key-hash:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8"
    )
