"""Every kind of event Latchkey records, each with what it means: the one list that recorders
name their events from and that webhook filters are checked against. Pure data, so any layer
may import it."""

from __future__ import annotations

# Ceremonies (the /v1, native and pool ceremonies, success or failure with its reason).
PASSKEY_REGISTRATION = "passkey.registration"
PASSKEY_AUTHENTICATION = "passkey.authentication"
# Identity pools.
POOL_SIGNED_UP = "pool.signed_up"
POOL_SIGNED_IN = "pool.signed_in"
POOL_PASSKEY_ADDED = "pool.passkey_added"
POOL_PASSKEY_RENAMED = "pool.passkey_renamed"
POOL_PASSKEY_REMOVED = "pool.passkey_removed"
POOL_PASSWORD_SIGN_IN = "pool.password_sign_in"
POOL_RECOVERY_REQUESTED = "pool.recovery_requested"
POOL_RECOVERED = "pool.recovered"
POOL_ACCOUNT_TAKEN_OVER = "pool.account_taken_over"
POOL_PASSKEYS_REPLACED = "pool.passkeys_replaced"
POOL_EMAIL_VERIFIED = "pool.email_verified"
# The passkey-adoption funnel's milestones of a hosted sign-in (services/sign_in_journey.py).
POOL_PAGE_LOADED = "pool.page_loaded"
POOL_PASSKEY_OFFER_SHOWN = "pool.passkey_offer_shown"
POOL_PASSKEY_OFFER_ACCEPTED = "pool.passkey_offer_accepted"
POOL_PASSKEY_OFFER_DECLINED = "pool.passkey_offer_declined"
# The OpenID Connect provider.
OIDC_AUTHORIZED = "oidc.authorized"
OIDC_CODE_EXCHANGED = "oidc.code_exchanged"
OIDC_SIGNED_OUT = "oidc.signed_out"
OIDC_TOKEN_REVOKED = "oidc.token_revoked"
# Requests and authenticator models.
RATE_LIMITED = "request.rate_limited"
AUTHENTICATOR_STATUS_CHANGED = "authenticator.status_changed"

# Operators' changes are `admin.<change>` (services/audit.py); a filter asks for them as a whole.
AUDIT_PREFIX = "admin."
AUDIT_WILDCARD = AUDIT_PREFIX + "*"
# Sent to one endpoint on an operator's request, whatever its filter; never recorded.
WEBHOOK_TEST = "webhook.test"

# Each kind an endpoint may ask for, with what it means.
DESCRIPTIONS: dict[str, str] = {
    PASSKEY_REGISTRATION: "a passkey registration; a failure carries its error code",
    PASSKEY_AUTHENTICATION: "a passkey sign-in; a failure carries its error code",
    RATE_LIMITED: "a rate limit refused a caller (the first refusal per key and window)",
    POOL_SIGNED_UP: "an account created in an identity pool (or a refused sign-up)",
    POOL_SIGNED_IN: "a sign-in to an identity pool",
    POOL_PASSKEY_ADDED: "a passkey added to an existing pool account",
    POOL_PASSKEY_RENAMED: "a pool user renamed one of their passkeys",
    POOL_PASSKEY_REMOVED: "a pool user removed one of their passkeys",
    POOL_PASSWORD_SIGN_IN: "a password sign-in to a pool; a failure is invalid_credentials",
    POOL_RECOVERY_REQUESTED: "a recovery code asked for (or a refused request)",
    POOL_RECOVERED: "an account recovered with a code and a new passkey (or a wrong code)",
    POOL_ACCOUNT_TAKEN_OVER: "an unverified account claimed by whoever proved its address",
    POOL_PASSKEYS_REPLACED: "a recovery's new passkey stored: sessions ended, others revoked",
    POOL_EMAIL_VERIFIED: "a pool user proved their email address (or a wrong code)",
    POOL_PAGE_LOADED: "a hosted sign-in page was loaded (reported by the page, in its own flow)",
    POOL_PASSKEY_OFFER_SHOWN: "the passkey offer was shown after a password sign-in",
    POOL_PASSKEY_OFFER_ACCEPTED: "a passkey was made from the offer after a password sign-in",
    POOL_PASSKEY_OFFER_DECLINED: "the passkey offer after a password sign-in was declined",
    OIDC_AUTHORIZED: "a code issued to an app for a signed-in user",
    OIDC_CODE_EXCHANGED: "a code exchanged for tokens; a replay fails with code_replayed",
    OIDC_SIGNED_OUT: "an SSO session ended by RP-initiated logout",
    OIDC_TOKEN_REVOKED: "an app revoked a refresh token (its family) or an access token",
    AUTHENTICATOR_STATUS_CHANGED: "the metadata service changed an authenticator model's status",
}

KINDS: tuple[str, ...] = tuple(DESCRIPTIONS)
"""The kinds a webhook endpoint may ask for, in the order `latchkey webhooks types` lists them."""
