"""The OpenID Connect userinfo endpoint (OIDC Core §5.3): the claims the access token's scope
grants; a refused token gets RFC 6750's challenge beside the OAuth error."""

from __future__ import annotations

from functools import partial
from typing import Any

from anyio import to_thread
from litestar import Response, route

from latchkey.api import errors
from latchkey.api.context import AnyRequest, runtime
from latchkey.api.site import site_of
from latchkey.oauth2 import (
    bearer,
)
from latchkey.oauth2.errors import (
    InvalidRequest,
    InvalidToken,
)
from latchkey.oidc import userinfo


def _bearer_token(request: AnyRequest, form: dict[str, str] | None) -> str:
    """RFC 6750 §2.1 (the Authorization header) or §2.2 (a form body's access_token); a
    request that uses both is refused (§2)."""
    scheme, _, value = (request.headers.get("authorization") or "").partition(" ")
    header = value.strip() if scheme.lower() == "bearer" else ""
    body = (form or {}).get("access_token", "")
    if header and body:
        raise InvalidRequest("send the access token in the header or the body, not both")
    if not header and not body:
        raise InvalidToken("send the access token as a Bearer token")
    return header or body


def _user_info(request: AnyRequest, form: dict[str, str] | None) -> Response[dict[str, Any]]:
    site = site_of(request)
    try:
        claims = userinfo.claims(
            runtime(request), site.tenant, site.issuer, _bearer_token(request, form)
        )
    except InvalidToken as exc:
        # The OAuth error body, and the challenge RFC 6750 §3 asks for beside it.
        challenge = {"www-authenticate": bearer.challenge(site.issuer, exc)}
        return errors.OAUTH.response(exc.status, exc.code, exc.message, challenge)
    return Response(claims, headers={"cache-control": "no-store"})


@route("/userinfo", http_method=["GET", "POST"], status_code=200)
async def user_info(request: AnyRequest) -> Response[dict[str, Any]]:
    """OIDC Core §5.3.1: GET or POST; the token in the header or, on a POST, the form body."""
    form = None
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if request.method == "POST" and content_type == "application/x-www-form-urlencoded":
        form = {str(k): str(v) for k, v in (await request.form()).items()}
    return await to_thread.run_sync(partial(_user_info, request, form))
