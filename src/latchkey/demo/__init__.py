"""The demo: a login server, a web app and an OIDC portal on Latchkey (`latchkey demo`)."""

import warnings

# Authlib 1.9 warns, on import of the httpx client the demo portal uses, that its httpx support
# is deprecated: a notice for Authlib's maintainers, not for someone starting the demo.
warnings.filterwarnings("ignore", message="The httpx module is deprecated")
