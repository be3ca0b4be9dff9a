"""The HTTP surfaces, as thin adapters over the domain: the /v1 and ceremony APIs, the native
app and OpenID endpoints, the identity pools' hosted pages, the management API (/admin/v1), the
operator portal's pages, the app factory and its middleware. It may import every layer below
it (portal, oidc, oauth2, services, config, store and the records); nothing but the command
line, `serve` and the demo imports it (pyproject.toml, [tool.importlinter])."""
