"""The OpenID Connect provider's events (beside the pools' sign-in and sign-up events)."""

AUTHORIZED = "oidc.authorized"  # a code issued to an app for a signed-in user
CODE_EXCHANGED = "oidc.code_exchanged"  # a code exchanged for tokens; failure `code_replayed`
SIGNED_OUT = "oidc.signed_out"  # an SSO session ended by RP-initiated logout
TOKEN_REVOKED = "oidc.token_revoked"  # an app revoked a refresh (its family) or access token

KINDS = (AUTHORIZED, CODE_EXCHANGED, SIGNED_OUT, TOKEN_REVOKED)
