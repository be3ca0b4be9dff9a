"""The demo (`latchkey demo`): a login server, a web app and an OIDC portal on Latchkey. It sits
beside `serve` on top of the HTTP surfaces (api) and may import any layer below them; only the
command line imports it."""
