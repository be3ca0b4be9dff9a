"""The domain rules, without HTTP: tenants, apps and keys, the ceremonies and identity pools,
events and audit, webhooks and mail queues and their workers, the runtime every call takes. It
may import config, the store and the records (models, webauthn, mail, webhooks, metadata,
errors, ids, clock, event_kinds); never oauth2, oidc, portal or a surface. What must react to
an event without being imported is wired on the runtime at start-up (Runtime.on_event)."""
