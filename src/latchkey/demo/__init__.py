"""The demo: a login server, a web app and an OIDC portal on Latchkey (`latchkey demo`)."""
