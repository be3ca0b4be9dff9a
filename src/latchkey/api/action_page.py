"""The hosted page of a tracked action (issue 18 item 17): the vendor's pre-built UI that
`authsignal.launch(url)` opens with the `url` track answers. It signs the action's user in with
a passkey (or, not yet enrolled, creates one) through the /v1 client API with the action token,
then returns the browser to the action's `redirectUrl` with `?token=<result token>`; opened as a
window (`launch(url, { mode: "window" })`) it hands the token to the app's page instead. The
tenant's default pool gives it its look; the pool pages' CSP applies."""

from __future__ import annotations

from litestar import Response, get
from litestar.params import FromPath

from latchkey import i18n
from latchkey.api import page_language, tenancy
from latchkey.api.context import AnyRequest, runtime
from latchkey.api.pools.http import pool_prefix
from latchkey.runtime import Runtime
from latchkey.services import directories, pools
from latchkey.web.pages import PAGE_HEADERS, render

# The page's own fetches must carry its Origin (the client API checks it): same-origin, not the
# pool pages' no-referrer, which makes a browser send `Origin: null`. The token rides in the
# URL's fragment, which no Referer carries.
_HEADERS = {**PAGE_HEADERS, "referrer-policy": "same-origin"}


def page_url(rt: Runtime, tenant_id: str, token: str) -> str:
    """The page for an action token. The token rides in the fragment: a browser never sends
    it to a server, so no access log or proxy sees it."""
    return f"{rt.public_url}/hosted/{tenant_id}/action#token={token}"


@get("/hosted/{tenant_id:str}/action", sync_to_thread=True, include_in_schema=False)
def action_page(tenant_id: FromPath[str], request: AnyRequest) -> Response[str]:
    rt = runtime(request)
    tenant = tenancy.by_path(request)
    pool = pools.get(rt, tenant.id, directories.DEFAULT_NAME)
    active = page_language.translator(request, pool)
    body = render(
        "hosted/action.html",
        active,
        **page_language.page_values(request, active),
        page="action",
        title=active.gettext(i18n.N_("Confirm it's you")),
        pool_name=pool.name,
        logo_url=pool.settings.branding.logo_url,
        base=pool_prefix(tenant.id, pool.id).rstrip("/"),
        rp_id=tenant.rp_id,
        data={"tenant": tenant.id},
    )
    return Response(
        body,
        media_type="text/html; charset=utf-8",
        headers=_HEADERS,
        cookies=page_language.remembered(request),
    )
