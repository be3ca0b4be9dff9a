"""The schema. Migrations in store/migrations must produce exactly this."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
)

from latchkey.store.types import UTCDateTime

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

tenants = Table(
    "tenants",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("rp_id", String(253), nullable=False),
    Column("rp_name", String(200), nullable=False),
    Column("origins", JSON, nullable=False),
    Column("policy", JSON, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("related_origins", JSON, nullable=False),
    # Events older than this many days are pruned; NULL keeps them for ever.
    Column("event_retention_days", Integer),
    # The action names an anonymous sign-in may carry; NULL allows any name not tracked.
    Column("anonymous_actions", JSON),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("tenant_id", String(36), ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("prefix", String(24), nullable=False),
    # SHA-256 of the whole secret: the secret is 256 random bits, so a fast hash is safe here.
    Column("secret_hash", LargeBinary(32), nullable=False, unique=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("revoked_at", UTCDateTime),
    Index(None, "tenant_id"),
)

# A tenant's user directories (realms, identity pools): which identifiers users sign up with.
# The /v1 API's users live in the tenant's default directory.
directories = Table(
    "directories",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("tenant_id", String(36), ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(64), nullable=False),
    Column("is_default", Boolean, nullable=False),
    # {"email": "required" | "optional", "phone_number": ..., "username": ...}
    Column("identifiers", JSON, nullable=False),
    Column("settings", JSON, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    UniqueConstraint("tenant_id", "name"),
)

users = Table(
    "users",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("tenant_id", String(36), ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    Column("external_id", String(255), nullable=False),
    # Random, not PII: it is what authenticators store and send back (§14.6.1).
    Column("user_handle", LargeBinary(64), nullable=False),
    Column("username", String(255)),
    Column("display_name", String(255)),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("email", String(320)),
    Column("phone_number", String(32)),
    Column(
        "directory_id", String(36), ForeignKey("directories.id", ondelete="CASCADE"), nullable=False
    ),
    Column("profile", JSON, nullable=False),
    # Set by an operator: the user's passkeys and password no longer sign them in.
    Column("disabled_at", UTCDateTime),
    UniqueConstraint("tenant_id", "external_id"),
    UniqueConstraint("tenant_id", "user_handle"),
    Index(None, "directory_id"),
)

# Sign-up identifiers, normalized (lower-case e-mail and username, E.164 phone), unique within
# their directory: the primary key is the uniqueness rule.
user_identifiers = Table(
    "user_identifiers",
    metadata,
    Column(
        "directory_id",
        String(36),
        ForeignKey("directories.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("kind", String(16), primary_key=True),
    Column("value", String(320), primary_key=True),
    Column("user_id", String(36), ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    # When its owner proved it (a mailed code or link); NULL: unverified, anyone may have typed it.
    Column("verified_at", UTCDateTime),
    Index(None, "user_id"),
)

# OAuth clients: the tenant's web and native apps.
apps = Table(
    "apps",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("tenant_id", String(36), ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    Column("client_id", String(64), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("app_type", String(16), nullable=False),
    # SHA-256 of a 256-bit random secret, as for API keys; NULL for public clients.
    Column("client_secret_hash", LargeBinary(32)),
    Column("redirect_uris", JSON, nullable=False),
    Column("grant_types", JSON, nullable=False),
    Column("ios_team_id", String(10)),
    Column("ios_bundle_id", String(255)),
    Column("android_package", String(255)),
    Column("android_fingerprints", JSON, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    # Seconds a refresh-token family lives from its sign-in, however often it rotates; NULL:
    # the default (30 days).
    Column("refresh_token_lifetime", Integer),
    # The API audiences (RFC 8707 resources) its access tokens may name; [] = the tenant's own.
    Column("audiences", JSON, nullable=False),
    Index(None, "tenant_id"),
)

credentials = Table(
    "credentials",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("tenant_id", String(36), ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    Column("user_id", String(36), ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("credential_id", LargeBinary(1023), nullable=False),
    Column("public_key", LargeBinary, nullable=False),
    Column("alg", Integer, nullable=False),
    Column("sign_count", BigInteger, nullable=False),
    Column("aaguid", String(36), nullable=False),
    Column("fmt", String(32), nullable=False),
    Column("transports", JSON, nullable=False),
    Column("backup_eligible", Boolean, nullable=False),
    Column("backup_state", Boolean, nullable=False),
    Column("user_verified", Boolean, nullable=False),
    Column("discoverable", Boolean),
    Column("attachment", String(16)),
    Column("name", String(100), nullable=False),
    Column("possible_clone", Boolean, nullable=False, default=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("last_used_at", UTCDateTime),
    UniqueConstraint("tenant_id", "credential_id"),
    Index(None, "user_id"),
    # A model's stored passkeys, when the FIDO metadata changes its status.
    Index(None, "aaguid"),
)

challenges = Table(
    "challenges",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("tenant_id", String(36), ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("user_id", String(36), ForeignKey("users.id", ondelete="CASCADE")),
    Column("challenge", LargeBinary(64), nullable=False),
    Column("context", JSON, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("consumed_at", UTCDateTime),
    Index(None, "expires_at"),
)

# Sealed challenge ids already used (services/sealed_challenges.py): the key is the id's
# expiry in hex, then its nonce, so pruning is a range delete on the primary key.
used_challenges = Table(
    "used_challenges",
    metadata,
    Column("id", String(40), primary_key=True),
    sqlite_with_rowid=False,
)

events = Table(
    "events",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("tenant_id", String(36), ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(64), nullable=False),
    Column("outcome", String(16), nullable=False),
    Column("reason", String(64)),
    Column("user_id", String(36), ForeignKey("users.id", ondelete="SET NULL")),
    Column("credential_id", String(36), ForeignKey("credentials.id", ondelete="SET NULL")),
    Column("ip", String(64)),
    Column("user_agent", Text),
    Column("detail", JSON, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    # The pool, a sign-in's method and its milliseconds from page load, copied from `detail` as
    # the event is written: the adoption figures read them without parsing each row's JSON.
    Column("pool_id", Text),
    Column("method", Text),
    Column("elapsed_ms", Integer),
    Index(None, "tenant_id", "created_at"),
    # The adoption figures: each count reads only its kind's successes or failures.
    Index(None, "tenant_id", "kind", "outcome", "created_at"),
    # The event log's filters, and the SET NULL when a user or passkey is deleted.
    Index(None, "user_id"),
    Index(None, "credential_id"),
)

# A tracked action (Authsignal-style): what the app asked to protect, for which user, and how
# the challenge ended.
actions = Table(
    "actions",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("tenant_id", String(36), ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    Column("user_id", String(36), ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("action", String(64), nullable=False),
    Column("idempotency_key", String(64), nullable=False),
    Column("state", String(32), nullable=False),
    Column("scope", String(255), nullable=False),
    Column("verification_method", String(32)),
    Column("credential_id", String(36), ForeignKey("credentials.id", ondelete="SET NULL")),
    Column("attributes", JSON, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("state_updated_at", UTCDateTime, nullable=False),
    # A sign-in without the backend's action token (the browser named the action itself).
    Column("anonymous", Boolean, nullable=False, server_default=false()),
    UniqueConstraint("tenant_id", "idempotency_key"),
    Index(None, "user_id"),
)

# Action names a tenant's backend has tracked: reserved for tracked actions, so an anonymous
# sign-in can never be passed off as one of them.
tracked_action_names = Table(
    "tracked_action_names",
    metadata,
    Column("tenant_id", String(36), ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True),
    Column("action", String(64), primary_key=True),
    Column("created_at", UTCDateTime, nullable=False),
)

# Bearer tokens handed to browsers: only their SHA-256 is stored. A result token is consumed
# once by /v1/validate; an action token authorizes client calls until it expires.
tokens = Table(
    "tokens",
    metadata,
    Column("token_hash", LargeBinary(32), primary_key=True),
    Column("tenant_id", String(36), ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    Column("action_id", String(36), ForeignKey("actions.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("consumed_at", UTCDateTime),
    Index(None, "expires_at"),
)

# Per-tenant token signing keys. The private key is sealed with the master key; a retired key
# stays published in the JWKS until the tokens it signed have expired.
signing_keys = Table(
    "signing_keys",
    metadata,
    Column("kid", String(64), primary_key=True),
    Column("tenant_id", String(36), ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    Column("alg", String(8), nullable=False),
    Column("sealed_private_key", LargeBinary, nullable=False),
    Column("public_jwk", JSON, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("retired_at", UTCDateTime),
    Index(None, "tenant_id"),
)

# Refresh tokens (only their SHA-256 is stored). Each use rotates the token within its family;
# a second use of a rotated token revokes the whole family.
refresh_tokens = Table(
    "refresh_tokens",
    metadata,
    Column("token_hash", LargeBinary(32), primary_key=True),
    Column("tenant_id", String(36), ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    Column("app_id", String(36), ForeignKey("apps.id", ondelete="CASCADE"), nullable=False),
    Column("user_id", String(36), ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("family_id", String(36), nullable=False),
    Column("scope", String(1024), nullable=False),
    Column("amr", JSON, nullable=False),
    Column("auth_time", UTCDateTime, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("used_at", UTCDateTime),
    Column("revoked_at", UTCDateTime),
    # The passkey whose sign-in started the family (NULL: a password): deleting it revokes it.
    Column("credential_id", String(36)),
    # The audience of the family's access tokens, kept across rotation.
    Column("audience", String(1024)),
    Index(None, "family_id"),
    Index(None, "user_id"),
    Index(None, "credential_id"),
)

# Access tokens revoked before they expire (RFC 7009 §2): userinfo refuses them; a row is
# dropped once its token has expired anyway.
revoked_access_tokens = Table(
    "revoked_access_tokens",
    metadata,
    Column("jti", String(36), primary_key=True),
    Column("tenant_id", String(36), ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Index(None, "expires_at"),
)

# Custom domains: a request whose Host is one of these reaches that tenant at the root path.
tenant_domains = Table(
    "tenant_domains",
    metadata,
    Column("domain", String(253), primary_key=True),
    Column("tenant_id", String(36), ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    # Published by the domain's owner (DNS TXT or an HTTP file) to prove the domain; until
    # verified_at is set the domain serves nothing (services/domains.py).
    Column("verification_token", String(64)),
    Column("verified_at", UTCDateTime),
    Index(None, "tenant_id"),
)

# Self-service flows of the hosted pages (Kratos-style): a stored state machine bound to one
# browser by a cookie whose SHA-256 is kept here, consumed once by the step that ends it.
flows = Table(
    "flows",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("tenant_id", String(36), ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    Column(
        "directory_id", String(36), ForeignKey("directories.id", ondelete="CASCADE"), nullable=False
    ),
    Column("kind", String(32), nullable=False),
    Column("state", String(32), nullable=False),
    Column("cookie_hash", LargeBinary(32), nullable=False),
    Column("user_id", String(36), ForeignKey("users.id", ondelete="CASCADE")),
    # The authorization request the flow returns to, the challenge it waits on, ...
    Column("context", JSON, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Index(None, "expires_at"),
)

# argon2id password hashes, only in pools that enable passwords (teams migrating off them); kept
# apart from users so no user read ever carries one.
passwords = Table(
    "passwords",
    metadata,
    Column("user_id", String(36), ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("hash", String(255), nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

# Passkey recovery: a one-time code (typed) and link token (clicked), both stored hashed.
recovery_codes = Table(
    "recovery_codes",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("tenant_id", String(36), ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    Column("flow_id", String(64), ForeignKey("flows.id", ondelete="CASCADE"), nullable=False),
    # None for a native sign-up's code: its account is stored once the code is proved.
    Column("user_id", String(36), ForeignKey("users.id", ondelete="CASCADE")),
    Column("code_hash", LargeBinary(32), nullable=False),
    Column("link_hash", LargeBinary(32), nullable=False, unique=True),
    Column("attempts", Integer, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("used_at", UTCDateTime),
    Index(None, "flow_id"),
    # The recovery mails an account was sent lately (services/pools/recovery_limits.py).
    Index(None, "user_id", "created_at"),
)

# Outgoing e-mail, drained by a background worker: a message queued in the same transaction as
# what it announces is sent even if the SMTP server or this process is down at that moment.
mail_outbox = Table(
    "mail_outbox",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("tenant_id", String(36), ForeignKey("tenants.id", ondelete="CASCADE")),
    Column("sender", String(320), nullable=False),
    Column("recipient", String(320), nullable=False),
    Column("subject", String(255), nullable=False),
    Column("text_body", Text, nullable=False),
    Column("html_body", Text),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", UTCDateTime, nullable=False),
    # A worker claims a message until this time; another worker may take it over after.
    Column("locked_until", UTCDateTime),
    Column("last_error", Text),
    Column("created_at", UTCDateTime, nullable=False),
    Column("sent_at", UTCDateTime),
    Index(None, "sent_at", "next_attempt_at"),
    # The mails an address was sent lately (services/pools/recovery_limits.py).
    Index(None, "recipient", "created_at"),
)

# Spent bot-check (ALTCHA) solutions, kept until their challenge would have expired anyway.
botcheck_spent = Table(
    "botcheck_spent",
    metadata,
    Column("digest", LargeBinary(32), primary_key=True),
    Column("expires_at", UTCDateTime, nullable=False),
    Index(None, "expires_at"),
)

# Single sign-on sessions of the hosted pages, shared by the tenant's apps (cookie's SHA-256).
sso_sessions = Table(
    "sso_sessions",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("tenant_id", String(36), ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    Column("user_id", String(36), ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("token_hash", LargeBinary(32), nullable=False, unique=True),
    Column("amr", JSON, nullable=False),
    Column("auth_time", UTCDateTime, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("revoked_at", UTCDateTime),
    # The passkey that signed the browser in (NULL: a password): deleting it ends the session.
    Column("credential_id", String(36)),
    Index(None, "user_id"),
    Index(None, "credential_id"),
)

# OIDC authorization codes (SHA-256 stored). A second use revokes what the first one issued.
authorization_codes = Table(
    "authorization_codes",
    metadata,
    Column("code_hash", LargeBinary(32), primary_key=True),
    Column("tenant_id", String(36), ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    Column("app_id", String(36), ForeignKey("apps.id", ondelete="CASCADE"), nullable=False),
    Column("user_id", String(36), ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("session_id", String(36), ForeignKey("sso_sessions.id", ondelete="SET NULL")),
    Column("redirect_uri", Text, nullable=False),
    Column("scope", String(1024), nullable=False),
    Column("nonce", String(255)),
    Column("code_challenge", String(128)),
    Column("code_challenge_method", String(8)),
    Column("amr", JSON, nullable=False),
    Column("auth_time", UTCDateTime, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("used_at", UTCDateTime),
    # The refresh-token family the exchange started: revoked on a replay of the code.
    Column("family_id", String(36)),
    # The API audience the authorization request named, if any (checked when it was made).
    Column("audience", String(1024)),
)

# Rate-limit counters shared by every worker and node on this database (when there is no
# Redis): one row per key, its count restarted when a new window begins.
rate_limits = Table(
    "rate_limits",
    metadata,
    Column("key", String(255), primary_key=True),
    Column("window", BigInteger, nullable=False),
    Column("count", Integer, nullable=False),
)

# A tenant's webhook endpoints: where its events are POSTed and which kinds (an empty list: all).
# The signing secret must be read back to sign, so it is sealed with the master key, not hashed;
# after a rotation the previous secret also signs until previous_secret_expires_at.
webhook_endpoints = Table(
    "webhook_endpoints",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("tenant_id", String(36), ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    Column("url", String(2048), nullable=False),
    Column("event_types", JSON, nullable=False),
    Column("sealed_secret", LargeBinary, nullable=False),
    Column("secret_prefix", String(16), nullable=False),
    Column("previous_sealed_secret", LargeBinary),
    Column("previous_secret_expires_at", UTCDateTime),
    Column("description", String(500), nullable=False),
    # A disabled endpoint is paused: its deliveries wait until it is enabled again.
    Column("enabled", Boolean, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Index(None, "tenant_id"),
)

# The webhook outbox: one row per (event, endpoint), queued in the event's own transaction and
# drained by a background worker like mail_outbox. `payload` holds the exact bytes signed and
# sent on every attempt; `redelivery_of` names the delivery an operator asked to send again.
webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("tenant_id", String(36), ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    Column(
        "endpoint_id",
        String(36),
        ForeignKey("webhook_endpoints.id", ondelete="CASCADE"),
        nullable=False,
    ),
    # No foreign key: a delivery (and its log) outlives the event's pruning.
    Column("event_id", String(36), nullable=False),
    Column("event_type", String(64), nullable=False),
    Column("payload", Text, nullable=False),
    Column("redelivery_of", String(36)),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", UTCDateTime, nullable=False),
    Column("locked_until", UTCDateTime),
    Column("last_status", Integer),
    Column("last_error", Text),
    Column("delivered_at", UTCDateTime),
    Column("created_at", UTCDateTime, nullable=False),
    Index(None, "delivered_at", "next_attempt_at"),
    Index(None, "endpoint_id", "created_at"),
    Index(None, "tenant_id", "created_at"),
)

# Every attempt to deliver a webhook (the portal's delivery log): HTTP status, or the error
# when there was no response; the response body is not kept.
webhook_attempts = Table(
    "webhook_attempts",
    metadata,
    Column("id", String(36), primary_key=True),
    Column(
        "delivery_id",
        String(36),
        ForeignKey("webhook_deliveries.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("attempt", Integer, nullable=False),
    Column("attempted_at", UTCDateTime, nullable=False),
    Column("status", Integer),
    Column("error", Text),
    Column("duration_ms", Integer, nullable=False),
    Index(None, "delivery_id", "attempted_at"),
)

# Operator API tokens for the management API (/admin/v1): SHA-256 of a 256-bit secret, as for
# API keys. A NULL tenant_id makes a global token (every tenant; may make tenants).
operator_tokens = Table(
    "operator_tokens",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("tenant_id", String(36), ForeignKey("tenants.id", ondelete="CASCADE")),
    Column("name", String(100), nullable=False),
    Column("prefix", String(24), nullable=False),
    Column("secret_hash", LargeBinary(32), nullable=False, unique=True),
    # Who made it ("cli:cli", "token:<id>"): global tokens have no tenant event log to say so.
    Column("created_by", String(255), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("revoked_at", UTCDateTime),
    Index(None, "tenant_id"),
)

# Operators of the portal (/portal): a person, global (NULL tenant_id) or scoped to one tenant,
# who signs in with a passkey of their own. `user_handle` is their WebAuthn user.id.
operators = Table(
    "operators",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("tenant_id", String(36), ForeignKey("tenants.id", ondelete="CASCADE")),
    Column("name", String(100), nullable=False),
    Column("user_handle", LargeBinary(64), nullable=False, unique=True),
    Column("created_by", String(255), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("disabled_at", UTCDateTime),
    Index(None, "tenant_id"),
)

# Operators' passkeys, for the portal's own relying party (the Latchkey host itself).
operator_passkeys = Table(
    "operator_passkeys",
    metadata,
    Column("id", String(36), primary_key=True),
    Column(
        "operator_id", String(36), ForeignKey("operators.id", ondelete="CASCADE"), nullable=False
    ),
    Column("credential_id", LargeBinary(1023), nullable=False, unique=True),
    Column("public_key", LargeBinary, nullable=False),
    Column("alg", Integer, nullable=False),
    Column("sign_count", BigInteger, nullable=False),
    Column("aaguid", String(36), nullable=False),
    Column("backup_eligible", Boolean, nullable=False),
    Column("backup_state", Boolean, nullable=False),
    Column("transports", JSON, nullable=False),
    Column("name", String(100), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("last_used_at", UTCDateTime),
    Column("possible_clone", Boolean, nullable=False, default=False, server_default=false()),
    Index(None, "operator_id"),
)

# One-time enrolment links (`latchkey admin create`): SHA-256 of the secret; used once, expiring.
operator_enrolments = Table(
    "operator_enrolments",
    metadata,
    Column("id", String(36), primary_key=True),
    Column(
        "operator_id", String(36), ForeignKey("operators.id", ondelete="CASCADE"), nullable=False
    ),
    Column("secret_hash", LargeBinary(32), nullable=False, unique=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("used_at", UTCDateTime),
)


# Portal sessions: the cookie holds a 256-bit secret, stored here as its SHA-256.
portal_sessions = Table(
    "portal_sessions",
    metadata,
    Column("id", String(36), primary_key=True),
    Column(
        "operator_id", String(36), ForeignKey("operators.id", ondelete="CASCADE"), nullable=False
    ),
    Column("secret_hash", LargeBinary(32), nullable=False, unique=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("revoked_at", UTCDateTime),
    Column("ip", String(64)),
    Column("user_agent", String(512)),
    Index(None, "operator_id"),
)

# FIDO metadata (MDS3 payloads) operators loaded, by serial number; the highest is in use.
authenticator_metadata = Table(
    "authenticator_metadata",
    metadata,
    Column("no", Integer, primary_key=True, autoincrement=False),
    Column("next_update", Date, nullable=False),
    Column("source", String(255), nullable=False),
    Column("payload", Text, nullable=False),  # the verified payload, JSON
    Column("loaded_at", UTCDateTime, nullable=False),
)

# A model's status changed to a compromise in newer metadata while this tenant held its passkeys.
authenticator_alerts = Table(
    "authenticator_alerts",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("tenant_id", String(36), ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    Column("aaguid", String(36), nullable=False),
    Column("model", String(255), nullable=False),
    Column("status", String(64), nullable=False),
    Column("previous_status", String(64)),
    Column("metadata_no", Integer, nullable=False),
    Column("rule", String(16), nullable=False),
    Column("passkeys", Integer, nullable=False),
    Column("users", Integer, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Index(None, "tenant_id", "created_at"),
)

# The adoption figures' rollup of closed UTC days (services/adoption_rollup.py), written by the
# retention worker: a period's whole days are read from here, the rest from the events.
# Per tenant: the days before `rolled_through` are rolled up; the next ordinal of each set.
adoption_rollups = Table(
    "adoption_rollups",
    metadata,
    Column("tenant_id", String(36), ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True),
    Column("rolled_through", Date),
    Column("next_user", Integer, nullable=False),
    Column("next_passkey", Integer, nullable=False),
)
# A small number per user and per passkey that signed in, for the days' sets of them. Deleting
# the user or passkey clears its id (as it does an event's), so the figures leave it out as the
# events' do; a passkey's provider and backup eligibility (fixed when it is made) stay.
adoption_user_ordinals = Table(
    "adoption_user_ordinals",
    metadata,
    Column("tenant_id", String(36), ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    Column("ordinal", Integer, nullable=False),
    Column("user_id", String(36), ForeignKey("users.id", ondelete="SET NULL")),
    PrimaryKeyConstraint("tenant_id", "ordinal"),
    UniqueConstraint("user_id", "tenant_id"),
    Index(None, "tenant_id", "user_id"),
)
adoption_passkey_ordinals = Table(
    "adoption_passkey_ordinals",
    metadata,
    Column("tenant_id", String(36), ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    Column("ordinal", Integer, nullable=False),
    Column("credential_id", String(36), ForeignKey("credentials.id", ondelete="SET NULL")),
    Column("aaguid", String(36), nullable=False),
    Column("backup_eligible", Boolean, nullable=False),
    PrimaryKeyConstraint("tenant_id", "ordinal"),
    UniqueConstraint("credential_id", "tenant_id"),
    Index(None, "tenant_id", "credential_id"),
)
# A day's counts per pool (NULL: events of no pool): `figure` is method (kind, method),
# agent (User-Agent in `name`), failure (kind, reason), milestone (kind) or key (passkey
# sign-ins: the AAGUID in `kind`, synced or device_bound in `name`).
adoption_day_counts = Table(
    "adoption_day_counts",
    metadata,
    Column("tenant_id", String(36), ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    Column("day", Date, nullable=False),
    Column("pool_id", Text),
    Column("figure", String(16), nullable=False),
    Column("kind", String(64)),
    Column("name", Text),
    Column("n", Integer, nullable=False),
    Index(None, "tenant_id", "day"),
)
# A day's figures that do not add up across days, per pool, packed (services/adoption_sets.py):
# the ordinals of the users who signed in, every timed sign-in's milliseconds, and the passkey
# sign-ins per passkey ordinal.
adoption_day_sets = Table(
    "adoption_day_sets",
    metadata,
    Column("tenant_id", String(36), ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    Column("day", Date, nullable=False),
    Column("pool_id", Text),
    Column("users", LargeBinary, nullable=False),
    Column("times", LargeBinary, nullable=False),
    Column("passkeys", LargeBinary, nullable=False),
    Index(None, "tenant_id", "day"),
)
