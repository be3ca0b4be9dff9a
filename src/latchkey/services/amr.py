"""The `amr` (Authentication Methods References, RFC 8176 §2) a sign-in is known by: written
into SSO sessions, authorization codes and tokens, and read back by the `amr` checks of the
OIDC endpoints, so every surface names one method the same way."""

from __future__ import annotations

from latchkey.models import Credential

PASSKEY = "webauthn"
PASSWORD = "pwd"
# A synced passkey's private key leaves the device (software-protected key, `swk`); a
# device-bound one does not (hardware-protected key, `hwk`).
SYNCED_KEY = "swk"
DEVICE_KEY = "hwk"


def of_passkey(credential: Credential) -> list[str]:
    """A passkey sign-in: `webauthn` and how its key is protected."""
    return [PASSKEY, SYNCED_KEY if credential.backup_eligible else DEVICE_KEY]


def of_password() -> list[str]:
    return [PASSWORD]
