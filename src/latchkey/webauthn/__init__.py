"""The WebAuthn ceremonies: options, verification, policy and AAGUID names. No HTTP, no SQL."""
