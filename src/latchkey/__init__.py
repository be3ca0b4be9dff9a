"""Latchkey: a self-hosted passkey (WebAuthn / FIDO2) authentication service.

Its packages form layers, each importing only those below it: the surfaces (cli, demo, serve,
api), the domain (portal and oidc, then oauth2, then services), the runtime, config, the store, then
records and pure code (mail and webhooks as data, models, webauthn, web, metadata, i18n, and
errors, ids, clock, event_kinds at the bottom). pyproject.toml's [tool.importlinter] states the
order and `make test` checks it, with no import cycle anywhere.
"""

__version__ = "0.1.0"
