"""Webhooks: each event POSTed, signed the way Authsignal's server SDKs verify, to the tenant's
endpoints by a background worker draining a stored outbox (store/webhook_outbox.py)."""
