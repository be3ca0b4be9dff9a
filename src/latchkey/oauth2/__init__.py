"""OAuth 2.0 (RFC 6749) on Authlib: the tenant's authorization server, the code, refresh and
passkey grants, token issuance and revocation, client authentication, audiences and the claims
a scope releases. It may import the services, config, the store and the records, never the
OpenID provider built on it (oidc) or the HTTP surfaces."""
