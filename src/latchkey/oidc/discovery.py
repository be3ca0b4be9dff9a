"""The provider metadata document (OpenID Connect Discovery 1.0 §3) for one tenant's issuer."""

from __future__ import annotations

from typing import Any

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
        "grant_types_supported": list(GRANT_TYPES),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "prompt_values_supported": ["none", "login", "consent", "select_account"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": list(ALGORITHMS),
        "token_endpoint_auth_methods_supported": [
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
            "phone_number",
            "preferred_username",
            "name",
            "given_name",
            "family_name",
            "nickname",
            "picture",
        ],
        "code_challenge_methods_supported": ["S256"],
    }
