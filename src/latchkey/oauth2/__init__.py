"""OAuth 2.0 (RFC 6749) token endpoint pieces: grants, token issuance, refresh rotation."""
