"""Which of a user's claims a grant releases: those its scope asks for (OpenID Connect Core
§5.4): `openid` alone gives `sub`, `email` adds email and email_verified, `phone` the phone
number and phone_number_verified, `profile` the name claims and preferred_username."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from authlib.oidc.core import UserInfo


def scoped(claims: dict[str, Any], scope: Iterable[str]) -> dict[str, Any]:
    """The claims the scope releases; `sub` always."""
    return {"sub": claims["sub"], **UserInfo(claims).filter(" ".join(scope))}
