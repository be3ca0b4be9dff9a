"""The identity pools' hosted pages (HTML) under /{tenantId}/identity/{poolId}/: sign-in,
sign-up, recovery, account; and what they load from the pool: its theme and bot-check
challenges. The pages drive the JSON endpoints in api/pools/endpoints.py."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Response, get
from litestar.datastructures import Cookie
from litestar.params import QueryParameter
from litestar.response import Redirect

from latchkey import i18n
from latchkey.api import page_language
from latchkey.api.context import AnyRequest
from latchkey.api.pools.http import FLOW_COOKIE, context, flow_cookie, pool_prefix, url_pool
from latchkey.errors import LatchkeyError
from latchkey.metadata.names import model_icon
from latchkey.models import Flow, Tenant
from latchkey.runtime import Runtime
from latchkey.services import pools
from latchkey.services.pools import accounts as pool_accounts
from latchkey.services.pools import botcheck, flow_refs, flows, sso
from latchkey.services.pools.flow_refs import FlowRef
from latchkey.web.icons import provider_icon
from latchkey.web.pages import PAGE_HEADERS, render

FlowParam = Annotated[str | None, QueryParameter(max_length=64)]
_LABELS = {
    "email": i18n.N_("E-mail address"),
    "phone_number": i18n.N_("Phone number"),
    "username": i18n.N_("Username"),
}
_INPUTS = {
    "email": ("email", "email"),
    "phone_number": ("tel", "tel"),
    "username": ("text", "username"),
}


def _html(body: str, cookies: list[Cookie] | None = None) -> Response[str]:
    return Response(
        body, media_type="text/html; charset=utf-8", headers=PAGE_HEADERS, cookies=cookies or []
    )


def _common(
    request: AnyRequest,
    tenant: Tenant,
    pool: pools.Pool,
    page: str,
    title: str,
    flow_context: dict[str, Any] | None = None,
) -> dict[str, Any]:
    branding = pool.settings.branding
    active = page_language.translator(request, pool, flow_context)
    return {
        **page_language.page_values(request, active),
        "translator": active,
        "page": page,
        "title": active.gettext(title),
        "pool_name": pool.name,
        "logo_url": branding.logo_url,
        "base": pool_prefix(tenant.id, url_pool(request)).rstrip("/"),
        "rp_id": tenant.rp_id,
        "data": {},
    }


def _identifier_label(pool: pools.Pool, active: i18n.Translator) -> str:
    labels = [active.gettext(_LABELS[k]) for k in pool.directory.identifiers if k in _LABELS]
    if len(labels) > 1:
        return active.gettext("%(first)s or %(second)s") % {
            "first": ", ".join(labels[:-1]),
            "second": labels[-1],
        }
    return labels[0] if labels else active.gettext("Identifier")


def _browser_flow(
    rt: Runtime,
    request: AnyRequest,
    tenant: Tenant,
    pool: pools.Pool,
    kind: str,
    flow_id: str | None,
) -> Flow | None:
    """The flow the page was sent with, if it is this browser's and still open."""
    if not flow_id:
        return None
    try:
        with rt.read() as conn:
            ref = FlowRef(request.cookies.get(FLOW_COOKIE), flow_id)
            return flow_refs.load_flow(conn, rt, tenant, pool, kind, ref)
    except LatchkeyError:
        return None


def _pending_flow(
    request: AnyRequest, rt: Runtime, tenant: Tenant, pool: pools.Pool, carry_from: str | None
) -> tuple[str, Cookie]:
    """A flow for the page that is stored only when the browser first posts in it: a GET
    writes nothing (issue 21 item 8)."""
    flow_id, cookie = flows.pending(
        rt, tenant_id=tenant.id, directory_id=pool.id, carry_from=carry_from
    )
    return flow_id, flow_cookie(request, tenant.id, url_pool(request), cookie)


@get("/signin", sync_to_thread=True, include_in_schema=False)
def signin_page(request: AnyRequest, flow: FlowParam = None) -> Response[str]:
    rt, tenant, pool = context(request)
    found = _browser_flow(rt, request, tenant, pool, flows.LOGIN, flow)
    cookies = []
    if found is None:
        flow_id, cookie = _pending_flow(request, rt, tenant, pool, None)
        cookies.append(cookie)
    else:
        flow_id = found.id
    context_ = found.context if found else None
    values = _common(request, tenant, pool, "signin", i18n.N_("Sign in"), context_)
    values["data"] = {"flow": flow_id}
    values.update(
        identifier_label=_identifier_label(pool, values["translator"]),
        identifier_first=pool.settings.identifier_first,
        password=pool.settings.password,
        self_registration=pool.settings.self_registration,
        login_hint=str(found.context.get("login_hint") or "") if found else "",
        flow_query=f"?flow={flow_id}",
    )
    return _html(
        render("hosted/signin.html", **values), cookies + page_language.remembered(request)
    )


@get("/signup", sync_to_thread=True, include_in_schema=False)
def signup_page(request: AnyRequest, flow: FlowParam = None) -> Response[str]:
    rt, tenant, pool = context(request)
    values = _common(request, tenant, pool, "signup", i18n.N_("Create your account"))
    cookies = page_language.remembered(request)
    if pool.settings.self_registration:
        # Coming from a sign-in flow (e.g. an app's authorization request): return there after.
        login = _browser_flow(rt, request, tenant, pool, flows.LOGIN, flow)
        flow_id, cookie = _pending_flow(
            request, rt, tenant, pool, flows.carry_source(login) if login else None
        )
        cookies.append(cookie)
        values["data"] = {"flow": flow_id}
        values["flow_query"] = f"?flow={login.id}" if login else ""
    else:
        values["flow_query"] = ""
    values.update(
        self_registration=pool.settings.self_registration,
        bot_check=pool.settings.bot_check,
        fields=[
            {
                "name": kind,
                "label": values["translator"].gettext(_LABELS[kind]),
                "type": _INPUTS[kind][0],
                "autocomplete": _INPUTS[kind][1],
                "required": requirement == "required",
            }
            for kind, requirement in pool.directory.identifiers.items()
        ],
    )
    return _html(render("hosted/signup.html", **values), cookies)


@get("/recovery", sync_to_thread=True, include_in_schema=False)
def recovery_page(
    request: AnyRequest,
    token: Annotated[str | None, QueryParameter(max_length=128)] = None,
    flow: FlowParam = None,
) -> Response[str]:
    rt, tenant, pool = context(request)
    values = _common(request, tenant, pool, "recovery", i18n.N_("Reset your passkey"))
    values["data"] = {"link-token": token} if token else {}
    # The page's recovery flow (stored by its first POST), carrying the sign-in flow it came
    # from: after recovery, back to where that was going.
    login = _browser_flow(rt, request, tenant, pool, flows.LOGIN, flow)
    flow_id, cookie = _pending_flow(
        request, rt, tenant, pool, flows.carry_source(login) if login else None
    )
    values["data"]["flow"] = flow_id
    if flow:
        values["data"]["login-flow"] = flow
    values.update(
        identifier_label=_identifier_label(pool, values["translator"]),
        bot_check=pool.settings.bot_check,
        link_token=token,
        keeps_passkeys=pool.settings.recovery_keeps_passkeys,
    )
    return _html(
        render("hosted/recovery.html", **values), [cookie, *page_language.remembered(request)]
    )


@get("/account", sync_to_thread=True, include_in_schema=False)
def account_page(request: AnyRequest) -> Response[Any]:
    rt, tenant, pool = context(request)
    token = request.cookies.get(sso.cookie_name(tenant.id))
    try:
        found = pool_accounts.account(rt, tenant, pool, token)
    except pool_accounts.NotSignedIn:
        return Redirect(f"{pool_prefix(tenant.id, url_pool(request))}signin", headers=PAGE_HEADERS)
    values = _common(request, tenant, pool, "account", i18n.N_("Your account"))
    user = found.user
    values.update(
        user_label=user.email or user.username or user.display_name or user.external_id,
        passkeys=[
            {**p.__dict__, "icon": model_icon(p.aaguid) or provider_icon(p.provider)}
            for p in found.passkeys
        ],
        max_passkeys=pool.settings.max_passkeys,
    )
    return _html(render("hosted/account.html", **values), page_language.remembered(request))


@get("/theme.css", sync_to_thread=True, include_in_schema=False)
def theme(request: AnyRequest) -> Response[str]:
    # The colour was checked as #rrggbb when it was set (services/pools/__init__.py).
    _, _, pool = context(request)
    colour = pool.settings.branding.primary_color
    return Response(
        f":root {{ --primary: {colour}; }}\n",
        media_type="text/css",
        headers={"cache-control": "public, max-age=60", "x-content-type-options": "nosniff"},
    )


@get("/botcheck/challenge", sync_to_thread=True, include_in_schema=False)
def botcheck_challenge(request: AnyRequest, flow: FlowParam = None) -> Response[dict[str, Any]]:
    """A challenge for the flow that asks (a page names its own); without one, for a new
    pending flow whose cookie comes along and whose id is in the answer (`flow_id`, for API
    callers to pass on). Only that flow accepts the solution."""
    rt, tenant, pool = context(request)
    cookies = []
    if not flow:
        flow, cookie = _pending_flow(request, rt, tenant, pool, None)
        cookies.append(cookie)
    made = botcheck.challenge(
        rt, tenant.id, flow_id=flow, max_number=pool.settings.bot_check_complexity
    )
    return Response(
        {**made, "flow_id": flow}, cookies=cookies, headers={"cache-control": "no-store"}
    )


@get("/verify", sync_to_thread=True, include_in_schema=False)
def verify_page(
    request: AnyRequest,
    token: Annotated[str | None, QueryParameter(max_length=128)] = None,
    flow: FlowParam = None,
) -> Response[str]:
    """Confirm a sign-up's e-mail: the code form, or the mailed link (in this browser)."""
    _, tenant, pool = context(request)
    values = _common(request, tenant, pool, "verify", i18n.N_("Confirm your e-mail address"))
    values["data"] = {"link-token": token} if token else {"flow": flow} if flow else {}
    values.update(link_token=token, required=pool.settings.email_verification == "required")
    return _html(render("hosted/verify.html", **values), page_language.remembered(request))


HANDLERS = [
    signin_page,
    signup_page,
    recovery_page,
    verify_page,
    account_page,
    theme,
    botcheck_challenge,
]
