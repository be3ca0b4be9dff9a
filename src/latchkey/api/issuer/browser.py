"""The OpenID Connect provider's browser endpoints under each issuer: /authorize (and its
resume after the hosted sign-in), /logout. A browser gets an HTML page for what it cannot be
redirected with; any other caller the OAuth JSON error."""

from __future__ import annotations

from functools import partial
from typing import Any

from anyio import to_thread
from litestar import Response, get, route
from litestar.datastructures import Cookie
from litestar.response import Redirect

from latchkey.api import page_language
from latchkey.api.context import AnyRequest, request_meta, runtime
from latchkey.api.site import Site, site_of
from latchkey.i18n import N_
from latchkey.oauth2.errors import OAuthError
from latchkey.oauth2.server import OAuthCall
from latchkey.oidc import authorize as authorization
from latchkey.oidc.logout import LogoutOutcome, logout
from latchkey.services import pools
from latchkey.services.directories import DEFAULT_NAME
from latchkey.services.pools import sso
from latchkey.web.pages import PAGE_HEADERS, render

SIGNED_OUT = N_("You are signed out.")


def _call(
    request: AnyRequest, site: Site, endpoint: str, params: list[tuple[str, str]]
) -> OAuthCall:
    return OAuthCall(request.method, f"{site.issuer}{endpoint}", params)


def _query(request: AnyRequest) -> list[tuple[str, str]]:
    return [(str(k), str(v)) for k, v in request.query_params.multi_items()]


def _cookies(request: AnyRequest, specs: list[authorization.CookieSpec]) -> list[Cookie]:
    return [
        Cookie(
            key=spec.name,
            value=spec.value,
            path=spec.path,
            max_age=spec.max_age,
            httponly=True,
            samesite="lax",
            secure=request.scope["scheme"] == "https",
        )
        for spec in specs
    ]


def _wants_html(request: AnyRequest) -> bool:
    return "text/html" in (request.headers.get("accept") or "")


def _page(
    site: Site,
    request: AnyRequest,
    status: int,
    title: str,
    message: str,
    detail: str = "",
    **values: Any,
) -> Response[str]:
    """A message page in the tenant's default pool's branding and the user's language; the
    detail (a protocol error's description) stays as the server wrote it."""
    pool = pools.get(runtime(request), site.tenant.id, DEFAULT_NAME)
    active = page_language.translator(request, pool)
    body = render(
        "hosted/message.html",
        active,
        **page_language.page_values(request, active),
        page="message",
        pool_name=pool.name,
        logo_url=pool.settings.branding.logo_url,
        base=f"/{site.tenant.id}/identity/{pool.id}",
        rp_id=site.tenant.rp_id,
        data={},
        title=active.gettext(title),
        message=" ".join(filter(None, (active.gettext(message), detail))),
        **values,
    )
    return Response(
        body, status_code=status, media_type="text/html; charset=utf-8", headers=PAGE_HEADERS
    )


def _refused(site: Site, request: AnyRequest, error: dict[str, str]) -> Response[Any]:
    code = error.get("error", "invalid_request")
    message = error.get("error_description") or "The sign-in request is not valid."
    if _wants_html(request):
        return _page(
            site,
            request,
            400,
            title=N_("This sign-in link does not work"),
            message=N_("The app that sent you here made a request Latchkey cannot serve:"),
            detail=message,
            error_code=code,
        )
    raise OAuthError(message, code=code)


def _respond(site: Site, request: AnyRequest, outcome: authorization.Outcome) -> Response[Any]:
    cookies = _cookies(request, outcome.cookies)
    if outcome.location:
        return Redirect(outcome.location, status_code=302, cookies=cookies, headers=PAGE_HEADERS)
    response = _refused(site, request, outcome.error or {})
    response.cookies.extend(cookies)
    return response


@get("/authorize", sync_to_thread=True, include_in_schema=False)
def authorize(request: AnyRequest) -> Response[Any]:
    """OIDC Core §3.1.2.1 (GET); see oidc/authorize.py for the flow."""
    rt, site = runtime(request), site_of(request)
    rt.limiter.limit("oidc-authorize", ip=request_meta(request).ip, tenant_id=site.tenant.id)
    outcome = authorization.authorize(
        rt,
        tenant=site.tenant,
        issuer=site.issuer,
        call=_call(request, site, "authorize", _query(request)),
        sso_token=request.cookies.get(sso.cookie_name(site.tenant.id)),
        meta=request_meta(request),
    )
    return _respond(site, request, outcome)


@get("/authorize/resume", sync_to_thread=True, include_in_schema=False)
def authorize_resume(request: AnyRequest) -> Response[Any]:
    rt, site = runtime(request), site_of(request)
    query = request.query_params
    outcome = authorization.resume(
        rt,
        tenant=site.tenant,
        issuer=site.issuer,
        request_id=str(query.get("request") or "")[:64],
        pool_id=str(query.get("pool") or "")[:64],
        authz_cookie=request.cookies.get(authorization.AUTHZ_COOKIE),
        sso_token=request.cookies.get(sso.cookie_name(site.tenant.id)),
        meta=request_meta(request),
    )
    return _respond(site, request, outcome)


def _logout_response(
    site: Site, request: AnyRequest, params: list[tuple[str, str]], done: LogoutOutcome
) -> Response[Any]:
    if done.error:
        return _refused(site, request, done.error)
    if done.confirm:
        return _page(
            site,
            request,
            200,
            title=N_("Sign out"),
            message=N_("Do you want to sign out of this account on this device?"),
            confirm=True,
            action=f"{site.issuer}logout",
            hidden=[(k, v) for k, v in params if k != "confirm"],
        )
    gone = Cookie(key=sso.cookie_name(site.tenant.id), value="", path="/", max_age=0)
    if done.location:
        return Redirect(done.location, status_code=302, cookies=[gone], headers=PAGE_HEADERS)
    page = _page(site, request, 200, title=N_("Signed out"), message=SIGNED_OUT)
    page.cookies.append(gone)
    return page


@route("/logout", http_method=["GET", "POST"], include_in_schema=False)
async def end_session(request: AnyRequest) -> Response[Any]:
    """RP-Initiated Logout 1.0 §2: GET or POST (form), see oidc/logout.py."""
    params = _query(request)
    if request.method == "POST":
        form = await request.form()
        params = [(str(k), str(v)) for k, v in form.multi_items()]
    rt = runtime(request)
    site = await to_thread.run_sync(partial(site_of, request))
    done = await to_thread.run_sync(
        partial(
            logout,
            rt,
            tenant=site.tenant,
            issuer=site.issuer,
            call=_call(request, site, "logout", params),
            sso_token=request.cookies.get(sso.cookie_name(site.tenant.id)),
            confirmed=request.method == "POST" and ("confirm", "yes") in params,
            meta=request_meta(request),
        )
    )
    return await to_thread.run_sync(partial(_logout_response, site, request, params, done))


HANDLERS = [authorize, authorize_resume, end_session]
