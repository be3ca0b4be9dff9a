"""OpenID Connect: discovery (OIDC Discovery 1.0), the JWKS, and the userinfo endpoint."""
