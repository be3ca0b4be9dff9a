"""What every identity-pool endpoint shares: the tenant and pool from the path, the flow
and SSO cookies."""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar.datastructures import Cookie
from litestar.params import QueryParameter

from latchkey.api import tenancy
from latchkey.api.context import AnyRequest, runtime, secure
from latchkey.models import Tenant
from latchkey.runtime import Runtime
from latchkey.services import pools
from latchkey.services.pools import sso
from latchkey.services.pools.flow_refs import FlowRef
from latchkey.services.pools.flows import LIFETIME as FLOW_LIFETIME

FLOW_COOKIE = "latchkey_flow"
Text = Annotated[str, msgspec.Meta(max_length=320)]
FlowId = Annotated[str, msgspec.Meta(max_length=64)]
# A hosted page names its own flow; the cookie must be that flow's.
FlowQuery = Annotated[str | None, QueryParameter(max_length=64)]


def pool_prefix(tenant_id: str, pool_id: str) -> str:
    return f"/{tenant_id}/identity/{pool_id}/"


def url_pool(request: AnyRequest) -> str:
    """The pool as this request's URL names it (id or name): cookie paths and page links keep
    to it, so a browser sends the flow cookie back to every URL of the pool it uses."""
    return str(request.path_params["pool_id"])


def context(request: AnyRequest) -> tuple[Runtime, Tenant, pools.Pool]:
    rt, tenant = runtime(request), tenancy.by_path(request)
    return rt, tenant, pools.get(rt, tenant.id, request.path_params["pool_id"])


def flow_cookie(request: AnyRequest, tenant_id: str, pool_id: str, value: str) -> Cookie:
    return Cookie(
        key=FLOW_COOKIE,
        value=value,
        path=pool_prefix(tenant_id, pool_id),
        httponly=True,
        samesite="lax",
        secure=secure(request),
        max_age=int(FLOW_LIFETIME.total_seconds()),
    )


def session_cookie(request: AnyRequest, tenant_id: str, opened: sso.Opened) -> Cookie:
    # Path / so the tenant's OIDC endpoints see it too; the name carries the tenant.
    return Cookie(
        key=sso.cookie_name(tenant_id),
        value=opened.token,
        path="/",
        httponly=True,
        samesite="lax",
        secure=secure(request),
        max_age=int(sso.LIFETIME.total_seconds()),
    )


def flow_ref(request: AnyRequest, flow_id: str | None) -> FlowRef:
    return FlowRef(request.cookies.get(FLOW_COOKIE), flow_id)
