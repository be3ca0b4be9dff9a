"""A tenant's passkey policy: what options ask for and what verification insists on."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from cryptography import x509

from latchkey.errors import ConfigError

# COSE algorithm names (RFC 9053, WebAuthn §5.8.5) the policy may name, with their identifiers.
ALGORITHMS: dict[str, int] = {
    "ES256": -7,
    "EdDSA": -8,
    "ES512": -36,
    "PS256": -37,
    "PS384": -38,
    "PS512": -39,
    "RS256": -257,
    "RS384": -258,
    "RS512": -259,
    "ML-DSA-44": -48,
    "ML-DSA-65": -49,
    "ML-DSA-87": -50,
}
ALGORITHM_NAMES = {value: name for name, value in ALGORITHMS.items()}
DEFAULT_ALGORITHMS = ("ES256", "EdDSA", "RS256")

USER_VERIFICATION = ("required", "preferred", "discouraged")
RESIDENT_KEY = ("required", "preferred", "discouraged")
ATTESTATION = ("none", "indirect", "direct", "enterprise")
ATTACHMENT = ("platform", "cross-platform")
# Policies that insist on a verified attestation statement (§7.1 step 21-24 and §8).
ATTESTED = ("direct", "enterprise")
CERTIFICATION = ("L1", "L1plus", "L2", "L2plus", "L3", "L3plus")
KEY_PROTECTION = ("hardware", "secure_element")
STATUS_RULES = ("warn", "block", "notify")
# Attestation statement formats (§8) an operator can add anchors to, or declare it holds none for.
ANCHOR_FORMATS = ("packed", "tpm", "android-key", "android-safetynet", "fido-u2f", "apple")
NO_ANCHOR = "none"
MAX_AAGUIDS = 500
MAX_ANCHORS = 20

MIN_TIMEOUT_MS = 30_000
MAX_TIMEOUT_MS = 600_000


def _one_of(name: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ConfigError(f"{name} {value!r} is not one of {', '.join(allowed)}")


@dataclass(frozen=True)
class PasskeyPolicy:
    user_verification: str = "preferred"
    resident_key: str = "required"
    attestation: str = "none"
    algorithms: tuple[str, ...] = DEFAULT_ALGORITHMS
    timeout_ms: int = 300_000
    allow_synced: bool = True
    authenticator_attachment: str | None = None
    # Which authenticator models (AAGUIDs) may register; allow-list, certification and key
    # protection need an attested model (ATTESTED), as an unattested AAGUID is only a claim.
    aaguid_allow: tuple[str, ...] = ()
    aaguid_deny: tuple[str, ...] = ()
    min_certification: str | None = None
    key_protection: str | None = None
    # Per statement format: operator PEM anchors, or NO_ANCHOR (the chain is not checked).
    attestation_anchors: Mapping[str, Any] = field(default_factory=dict, hash=False)
    # What a newer FIDO metadata's compromise report does to stored passkeys of that model.
    status_rule: str = "warn"

    def __post_init__(self) -> None:
        self._check_models()
        _one_of("user_verification", self.user_verification, USER_VERIFICATION)
        _one_of("resident_key", self.resident_key, RESIDENT_KEY)
        _one_of("attestation", self.attestation, ATTESTATION)
        if self.authenticator_attachment is not None:
            _one_of("authenticator_attachment", self.authenticator_attachment, ATTACHMENT)
        if not self.algorithms:
            raise ConfigError("algorithms must name at least one COSE algorithm")
        for name in self.algorithms:
            if name not in ALGORITHMS:
                raise ConfigError(
                    f"algorithm {name!r} is not supported; use {', '.join(ALGORITHMS)}"
                )
        if len(set(self.algorithms)) != len(self.algorithms):
            raise ConfigError("algorithms lists an algorithm twice")
        if not MIN_TIMEOUT_MS <= self.timeout_ms <= MAX_TIMEOUT_MS:
            raise ConfigError(
                f"timeout_ms {self.timeout_ms} is outside {MIN_TIMEOUT_MS}..{MAX_TIMEOUT_MS}"
                " (WebAuthn §15.1 recommends 5 to 10 minutes)"
            )

    def _check_models(self) -> None:
        _one_of("status_rule", self.status_rule, STATUS_RULES)
        if self.min_certification is not None:
            _one_of("min_certification", self.min_certification, CERTIFICATION)
        if self.key_protection is not None:
            _one_of("key_protection", self.key_protection, KEY_PROTECTION)
        for name in ("aaguid_allow", "aaguid_deny"):
            listed = getattr(self, name)
            if len(listed) > MAX_AAGUIDS:
                raise ConfigError(f"{name} lists more than {MAX_AAGUIDS} AAGUIDs")
            for aaguid in listed:
                if not isinstance(aaguid, str) or _aaguid(aaguid) != aaguid:
                    raise ConfigError(f"{name}: {aaguid!r} is not a lower-case AAGUID")
        needs = [
            name
            for name in ("aaguid_allow", "min_certification", "key_protection")
            if getattr(self, name)
        ]
        if needs and self.attestation not in ATTESTED:
            raise ConfigError(
                f"{', '.join(needs)} needs attestation direct or enterprise: without a verified"
                " statement the authenticator's model is only the client's claim"
            )
        _check_anchors(self.attestation_anchors)

    @property
    def attested(self) -> bool:
        return self.attestation in ATTESTED

    def anchors(self) -> dict[str, list[bytes]]:
        """The operator's PEM anchors by format (formats declared NO_ANCHOR are left out)."""
        return {
            fmt: [pem.encode() for pem in pems]
            for fmt, pems in self.attestation_anchors.items()
            if pems != NO_ANCHOR
        }

    def no_anchor(self, fmt: str) -> bool:
        return self.attestation_anchors.get(fmt) == NO_ANCHOR

    @classmethod
    def preset(cls, name: str) -> PasskeyPolicy:
        _one_of("policy preset", name, tuple(PRESETS))
        return cls.from_dict(PRESETS[name])

    @property
    def algorithm_ids(self) -> tuple[int, ...]:
        return tuple(ALGORITHMS[name] for name in self.algorithms)

    @property
    def require_user_verification(self) -> bool:
        return self.user_verification == "required"

    def to_dict(self) -> dict[str, Any]:
        return {
            "user_verification": self.user_verification,
            "resident_key": self.resident_key,
            "attestation": self.attestation,
            "algorithms": list(self.algorithms),
            "timeout_ms": self.timeout_ms,
            "allow_synced": self.allow_synced,
            "authenticator_attachment": self.authenticator_attachment,
            "aaguid_allow": list(self.aaguid_allow),
            "aaguid_deny": list(self.aaguid_deny),
            "min_certification": self.min_certification,
            "key_protection": self.key_protection,
            "attestation_anchors": {
                fmt: pems if pems == NO_ANCHOR else list(pems)
                for fmt, pems in self.attestation_anchors.items()
            },
            "status_rule": self.status_rule,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PasskeyPolicy:
        known = {k: v for k, v in data.items() if k in _FIELDS}
        unknown = sorted(set(data) - _FIELDS)
        if unknown:
            raise ConfigError(f"unknown policy setting(s): {', '.join(unknown)}")
        for listed in ("algorithms", "aaguid_allow", "aaguid_deny"):
            if listed in known:
                if not isinstance(known[listed], list | tuple):
                    raise ConfigError(f"{listed} must be a list")
                known[listed] = tuple(known[listed])
        for listed in ("aaguid_allow", "aaguid_deny"):
            if listed in known:
                known[listed] = tuple(sorted({_aaguid(a) for a in known[listed]}))
        if "attestation_anchors" in known and not isinstance(known["attestation_anchors"], dict):
            raise ConfigError("attestation_anchors must map a format to PEM anchors or 'none'")
        for flag in ("timeout_ms",):
            if flag in known and (
                isinstance(known[flag], bool) or not isinstance(known[flag], int)
            ):
                raise ConfigError(f"{flag} must be an integer number of milliseconds")
        if "allow_synced" in known and not isinstance(known["allow_synced"], bool):
            raise ConfigError("allow_synced must be true or false")
        return cls(**known)


_FIELDS = {
    "user_verification",
    "resident_key",
    "attestation",
    "algorithms",
    "timeout_ms",
    "allow_synced",
    "authenticator_attachment",
    "aaguid_allow",
    "aaguid_deny",
    "min_certification",
    "key_protection",
    "attestation_anchors",
    "status_rule",
}


def _aaguid(value: Any) -> str:
    try:
        return str(uuid.UUID(value)) if isinstance(value, str) else ""
    except ValueError:
        raise ConfigError(f"{value!r} is not an AAGUID (a UUID)") from None


def _check_anchors(anchors: Mapping[str, Any]) -> None:
    for fmt, pems in anchors.items():
        _one_of("attestation format", fmt, ANCHOR_FORMATS)
        if pems == NO_ANCHOR:
            continue
        if not isinstance(pems, list | tuple) or not pems or len(pems) > MAX_ANCHORS:
            raise ConfigError(
                f"attestation_anchors[{fmt!r}] must be 1 to {MAX_ANCHORS} PEM certificates"
                f" or {NO_ANCHOR!r}"
            )
        for pem in pems:
            try:
                x509.load_pem_x509_certificate(pem.encode() if isinstance(pem, str) else b"")
            except ValueError:
                raise ConfigError(
                    f"attestation_anchors[{fmt!r}] holds something that is not a PEM certificate"
                ) from None


# What each preset means (docs/attestation.md).
PRESETS: dict[str, dict[str, Any]] = {
    # Synced passkeys welcome, no attestation asked: the widest reach.
    "consumer": {
        "user_verification": "preferred",
        "resident_key": "required",
        "attestation": "none",
        "allow_synced": True,
        "authenticator_attachment": None,
        "aaguid_allow": [],
        "min_certification": None,
        "key_protection": None,
        "status_rule": "warn",
    },
    # Device-bound keys of attested, FIDO-certified (L1 or higher) hardware models, with user
    # verification; passkeys of a model later reported compromised cannot sign in.
    "high-assurance": {
        "user_verification": "required",
        "resident_key": "required",
        "attestation": "direct",
        "allow_synced": False,
        "min_certification": "L1",
        "key_protection": "hardware",
        "status_rule": "block",
    },
}
