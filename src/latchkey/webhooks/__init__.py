"""Webhooks as data and on the wire: an endpoint's rules (URL, event filter, secret), the
delivery records the store keeps, the signed envelope (as Authsignal's server SDKs verify it)
and the network guard for sending. Kept by the store, it imports only the records, errors and
the event catalogue; the endpoints service and the worker are services (services/webhooks.py,
services/webhook_worker.py)."""
