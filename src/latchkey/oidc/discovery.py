"""The provider metadata document (OpenID Connect Discovery 1.0 §3, also served as RFC 8414
authorization server metadata) for one tenant's issuer. It says only what the endpoints do."""

from __future__ import annotations

from typing import Any

from latchkey import i18n
from latchkey.services.apps import GRANT_TYPES
from latchkey.services.signing_keys import ALGORITHMS


def metadata(issuer: str) -> dict[str, Any]:
    """`issuer` ends with a slash; every endpoint hangs off it."""
    return {
        "issuer": issuer,
        "authorization_endpoint": f"{issuer}authorize",
        "end_session_endpoint": f"{issuer}logout",
        "jwks_uri": f"{issuer}.well-known/jwks.json",
        "token_endpoint": f"{issuer}oauth/token",
        "userinfo_endpoint": f"{issuer}userinfo",
        "revocation_endpoint": f"{issuer}oauth/revoke",
        "grant_types_supported": list(GRANT_TYPES),
        "response_types_supported": ["code"],
        # The code comes back in the query only; authorize refuses any other response_mode.
        "response_modes_supported": ["query"],
        # What authorize honours: none (never a page) and login (always a fresh sign-in).
        "prompt_values_supported": ["none", "login"],
        # Request objects (OIDC Core §6) are refused with request_not_supported.
        "request_parameter_supported": False,
        "request_uri_parameter_supported": False,
        "claims_parameter_supported": False,
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": list(ALGORITHMS),
        "token_endpoint_auth_methods_supported": [
            "none",
            "client_secret_post",
            "client_secret_basic",
        ],
        # RFC 7009 §2.1 / RFC 8414 §2: a public client names itself, a confidential one
        # authenticates as at the token endpoint.
        "revocation_endpoint_auth_methods_supported": [
            "none",
            "client_secret_post",
            "client_secret_basic",
        ],
        "scopes_supported": ["openid", "profile", "email", "phone", "offline_access"],
        "claims_supported": [
            "sub",
            "iss",
            "aud",
            "exp",
            "iat",
            "auth_time",
            "amr",
            "nonce",
            "at_hash",
            "email",
            "email_verified",
            "phone_number",
            "phone_number_verified",
            "preferred_username",
            "name",
            "given_name",
            "family_name",
            "nickname",
            "picture",
        ],
        "code_challenge_methods_supported": ["S256"],
        # The hosted pages' languages, which `ui_locales` picks from (BCP 47 tags).
        "ui_locales_supported": [i18n.html_lang(locale) for locale in i18n.LOCALES],
    }
