"""Latchkey: a self-hosted passkey (WebAuthn / FIDO2) authentication service."""

__version__ = "0.1.0"
