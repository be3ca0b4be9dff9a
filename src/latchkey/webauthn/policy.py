"""A tenant's passkey policy: what options ask for and what verification insists on."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

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

    def __post_init__(self) -> None:
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
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PasskeyPolicy:
        known = {k: v for k, v in data.items() if k in _FIELDS}
        unknown = sorted(set(data) - _FIELDS)
        if unknown:
            raise ConfigError(f"unknown policy setting(s): {', '.join(unknown)}")
        if "algorithms" in known:
            known["algorithms"] = tuple(known["algorithms"])
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
}
