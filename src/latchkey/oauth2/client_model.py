"""A tenant's app as Authlib's OAuth client (RFC 6749 §2): exact redirect URIs, its grants, and
how it authenticates at the token endpoint (a secret when confidential, none when public)."""

from __future__ import annotations

from typing import Any

from authlib.oauth2.rfc6749 import ClientMixin
from authlib.oauth2.rfc6749.util import scope_to_list

from latchkey.models import App
from latchkey.services import apps

SCOPES = ("openid", "profile", "email", "phone", "offline_access")


class OAuthClient(ClientMixin):
    def __init__(self, app: App) -> None:
        self.app = app

    @property
    def client_metadata(self) -> dict[str, Any]:
        # RP-Initiated Logout: a post-logout redirect must be one of the app's redirect URIs.
        return {"post_logout_redirect_uris": list(self.app.redirect_uris)}

    def get_client_id(self) -> str:
        return self.app.client_id

    def get_default_redirect_uri(self) -> str | None:
        # OIDC Core §3.1.2.1: redirect_uri is required; never guess one.
        return None

    def get_allowed_scope(self, scope: str | None) -> str:
        asked = scope_to_list(scope) or []
        return " ".join(s for s in dict.fromkeys(asked) if s in SCOPES)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        # Exact string match (OAuth 2.0 Security BCP §4.1.3): no prefixes, no wildcards.
        return redirect_uri in self.app.redirect_uris

    def check_client_secret(self, client_secret: str) -> bool:
        try:
            apps.authenticate(self.app, client_secret)
        except apps.InvalidClient:
            return False
        return self.app.confidential

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        if self.app.confidential:
            return method in ("client_secret_basic", "client_secret_post")
        return method == "none"

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code" and "authorization_code" in self.app.grant_types

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in self.app.grant_types
