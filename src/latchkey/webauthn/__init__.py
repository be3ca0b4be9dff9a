"""The WebAuthn ceremonies as pure functions: options, verification, policy, attestation and
AAGUID names; no HTTP, no SQL. It imports only the shared error base (latchkey.errors) and the
FIDO metadata entries its attestation policy reads (latchkey.metadata)."""
