"""Each tenant's OAuth 2.0 authorization server and OpenID provider (the issuer), under
/t/{tenantId}/ and at the root for tenants reached by their own domain: the token endpoint and
revocation (token.py), userinfo (userinfo.py), discovery and the JWKS (discovery.py), the browser
endpoints /authorize and /logout (browser.py) and the passkey grant's challenge endpoints for
native apps (passkey_grant.py). Errors are OAuth-shaped ({"error", "error_description"}:
errors.OAUTH). It may import the shared request plumbing of latchkey.api (context, errors, site,
auth, page_language), latchkey.oauth2 and latchkey.oidc, the services and the records; never
another surface's package (v1, pools, admin, portal) and never the store directly."""

from __future__ import annotations

from litestar import Router

from latchkey.api import errors
from latchkey.api.issuer import browser, discovery, passkey_grant, token, userinfo

HANDLERS = [
    passkey_grant.signup_challenge,
    passkey_grant.login_challenge,
    token.token,
    token.revoke,
    userinfo.user_info,
    discovery.openid_configuration,
    discovery.authorization_server,
    discovery.jwks,
    *browser.HANDLERS,
]

# The same endpoints by path, and at the root for tenants reached by their own domain.
TAGS = ["native apps and OpenID Connect"]
router = Router(
    path="/t/{tenant_id:str}",
    tags=TAGS,
    route_handlers=HANDLERS,
    exception_handlers=errors.OAUTH.handlers,
)
domain_router = Router(
    path="/",
    tags=TAGS,
    route_handlers=[*HANDLERS, discovery.path_issuer_metadata],
    exception_handlers=errors.OAUTH.handlers,
)
