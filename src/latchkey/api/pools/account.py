"""The identity-pool account endpoints, for the signed-in user (SSO session cookie): their
passkeys, rename, delete, add another, sign out."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Response, delete, get, patch, post
from litestar.datastructures import Cookie
from litestar.params import FromPath, FromQuery, JSONBody

from latchkey.api.context import AnyRequest, request_meta
from latchkey.api.pools.http import context, flow_cookie, url_pool
from latchkey.services.pools import accounts as pool_accounts
from latchkey.services.pools import sso
from latchkey.services.pools.accounts import Passkey
from latchkey.webauthn.encoding import b64url


def _token(request: AnyRequest, tenant_id: str) -> str | None:
    return request.cookies.get(sso.cookie_name(tenant_id))


def passkey_json(passkey: Passkey) -> dict[str, Any]:
    return {
        "id": passkey.id,
        "credential_id": passkey.credential_id,
        "name": passkey.name,
        "provider": passkey.provider,
        "aaguid": passkey.aaguid,
        "synced": passkey.synced,
        "created_at": passkey.created_at.isoformat(),
        "last_used_at": passkey.last_used_at.isoformat() if passkey.last_used_at else None,
    }


@get("/account/passkeys", sync_to_thread=True)
def list_passkeys(request: AnyRequest) -> Response[dict[str, Any]]:
    rt, tenant, pool = context(request)
    found = pool_accounts.account(rt, tenant, pool, _token(request, tenant.id))
    user = found.user
    body = {
        "user": {
            "id": user.id,
            "name": user.username,
            "display_name": user.display_name,
            "email": user.email,
            # What the Signal API calls name the user by (the WebAuthn user handle).
            "user_handle": b64url(user.user_handle),
        },
        "passkeys": [passkey_json(p) for p in found.passkeys],
    }
    return Response(body, headers={"cache-control": "no-store"})


class Rename(msgspec.Struct, kw_only=True):
    name: Annotated[str, msgspec.Meta(max_length=100)]


@patch("/account/passkeys/{passkey_id:str}", status_code=200, sync_to_thread=True)
def rename_passkey(
    passkey_id: FromPath[str], data: JSONBody[Rename], request: AnyRequest
) -> dict[str, Any]:
    rt, tenant, pool = context(request)
    pool_accounts.rename(
        rt,
        tenant,
        pool,
        _token(request, tenant.id),
        passkey_id=passkey_id,
        name=data.name,
        meta=request_meta(request),
    )
    return {"renamed": passkey_id}


@delete("/account/passkeys/{passkey_id:str}", status_code=200, sync_to_thread=True)
def delete_passkey(passkey_id: FromPath[str], request: AnyRequest) -> dict[str, Any]:
    rt, tenant, pool = context(request)
    pool_accounts.remove(
        rt,
        tenant,
        pool,
        _token(request, tenant.id),
        passkey_id=passkey_id,
        meta=request_meta(request),
    )
    return {"removed": passkey_id}


@post("/account/passkeys", status_code=200, sync_to_thread=True)
def add_passkey(request: AnyRequest, offer: FromQuery[bool] = False) -> Response[dict[str, Any]]:
    """Options for another passkey; finish with register/webauthn/finish. `offer`: the page
    asks from its passkey offer after a password sign-in (counted as accepted when made)."""
    rt, tenant, pool = context(request)
    token = _token(request, tenant.id)
    begun, cookie = pool_accounts.add_passkey(rt, tenant, pool, token, offer=offer)
    return Response(
        {"publicKey": begun.public_key, "flow_id": begun.flow.id},
        cookies=[flow_cookie(request, tenant.id, url_pool(request), cookie)],
        headers={"cache-control": "no-store"},
    )


@post("/logout", status_code=200, sync_to_thread=True)
def logout(request: AnyRequest) -> Response[dict[str, Any]]:
    rt, tenant, _ = context(request)
    pool_accounts.sign_out(rt, tenant, _token(request, tenant.id))
    gone = Cookie(key=sso.cookie_name(tenant.id), value="", path="/", max_age=0)
    return Response({"signed_out": True}, cookies=[gone])


HANDLERS = [list_passkeys, rename_passkey, delete_passkey, add_passkey, logout]
