"""What a hosted sign-in page reports for the passkey-adoption funnel: that it was loaded (in
the browser's own sign-in flow) and what became of the passkey offer after a password sign-in
(for the signed-in user). Each report is one event, counted by the pool's rate limit."""

from __future__ import annotations

import msgspec
from litestar import Response, post
from litestar.params import JSONBody

from latchkey.api.context import AnyRequest, request_meta
from latchkey.api.pools.http import FlowId, context, flow_ref
from latchkey.services import sign_in_journey
from latchkey.services.pools import accounts as pool_accounts
from latchkey.services.pools import flow_refs, flows, sso


class MilestoneReport(msgspec.Struct, kw_only=True):
    milestone: sign_in_journey.Milestone
    # The page's sign-in flow: page_loaded names it (the browser's flow cookie must match).
    flow_id: FlowId | None = None


@post("/signin/milestone", status_code=204, sync_to_thread=True)
def report_milestone(data: JSONBody[MilestoneReport], request: AnyRequest) -> Response[None]:
    rt, tenant, pool = context(request)
    rt.limiter.limit("pool", ip=request_meta(request).ip, tenant_id=tenant.id)
    user_id = flow_id = None
    if data.milestone == "page_loaded":
        # Only a page the server handed out, still open, in the browser that holds it.
        with rt.read() as conn:
            flow = flow_refs.load_flow(
                conn, rt, tenant, pool, flows.LOGIN, flow_ref(request, data.flow_id or "")
            )
        flow_id = flow.id
    else:
        # The offer is shown to a user the password has just signed in.
        token = request.cookies.get(sso.cookie_name(tenant.id))
        _, user = pool_accounts.signed_in_user(rt, tenant, pool, token)
        user_id = user.id
    sign_in_journey.record_milestone(
        rt,
        tenant_id=tenant.id,
        pool_id=pool.id,
        milestone=data.milestone,
        meta=request_meta(request),
        user_id=user_id,
        flow_id=flow_id,
    )
    return Response(None, status_code=204)


HANDLERS = [report_milestone]
