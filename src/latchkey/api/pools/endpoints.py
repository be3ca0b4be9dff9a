"""Identity-pool WebAuthn and recovery endpoints under /{tenantId}/identity/{poolId}/, in the
shapes identity-pool products document (`{"publicKey": ...}` options; errors
`{error, error_code, status_code, details}`: errors.POOL).

Each begin/options call parks its challenge in a stored flow bound to the browser by an
HttpOnly cookie; finish reads the flow from that cookie (and, from a hosted page, checks it is
the page's own flow), so a finished flow, another browser or another flow gets nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from functools import partial
from typing import Annotated, Any

import msgspec
from litestar import Response, Router, post
from litestar.datastructures import Cookie
from litestar.params import JSONBody

from latchkey.api import errors, page_language
from latchkey.api.context import AnyRequest, request_meta, runtime
from latchkey.api.pools import account, milestones, pages
from latchkey.api.pools.http import (
    FLOW_COOKIE,
    FlowId,
    FlowQuery,
    Text,
    context,
    flow_cookie,
    flow_ref,
    pool_prefix,
    session_cookie,
    url_pool,
)
from latchkey.errors import LatchkeyError
from latchkey.event_kinds import (
    POOL_EMAIL_VERIFIED,
    POOL_RECOVERED,
    POOL_RECOVERY_REQUESTED,
    POOL_SIGNED_UP,
)
from latchkey.models import Tenant
from latchkey.runtime import Runtime
from latchkey.services import events, pools, sign_in_journey
from latchkey.services.pools import ceremonies as pool_ceremonies
from latchkey.services.pools import email_verification, flow_refs, flows, recovery
from latchkey.services.pools import passwords as pool_passwords
from latchkey.services.pools.botcheck import BotCheckFailed
from latchkey.services.pools.ceremonies import Options, SignedIn


def _options_response(
    request: AnyRequest, tenant: Tenant, pool: pools.Pool, begun: Options
) -> Response[dict[str, Any]]:
    cookies = (
        [flow_cookie(request, tenant.id, url_pool(request), begun.cookie)] if begun.cookie else []
    )
    body = {"publicKey": begun.public_key, "flow_id": begun.flow.id}
    return Response(body, cookies=cookies, headers={"cache-control": "no-store"})


def signed_in_response(
    request: AnyRequest, tenant: Tenant, pool: pools.Pool, done: SignedIn
) -> Response[dict[str, Any]]:
    prefix = pool_prefix(tenant.id, url_pool(request))
    body = {
        "flow_id": done.flow.id,
        "user_id": done.user.id,
        "signup": done.signup,
        "redirect_to": done.flow.context.get("return_to") or prefix + "account",
    }
    cookies = []
    if done.verification is not None:
        # The sign-up's e-mail verification flow takes the spent flow's cookie: the mailed
        # code and link work in this browser.
        cookies.append(flow_cookie(request, tenant.id, url_pool(request), done.verification.cookie))
        if done.session is None:
            body["verification_required"] = True
            body["redirect_to"] = f"{prefix}verify?flow={done.verification.flow.id}"
    else:
        # The finished flow's cookie is spent: expire it.
        cookies.append(Cookie(key=FLOW_COOKIE, value="", path=prefix, max_age=0))
    if done.session is not None:
        cookies.append(session_cookie(request, tenant.id, done.session))
    return Response(body, cookies=cookies, headers={"cache-control": "no-store"})


class RegisterBegin(msgspec.Struct, kw_only=True):
    identifier: Text | None = None
    # The pool's other identifier fields and profile fields (name, given_name, ...).
    profile: dict[str, Any] | None = None
    # The bot check's solution (the ALTCHA widget's payload).
    altcha: Annotated[str, msgspec.Meta(max_length=4096)] | None = None
    flow_id: FlowId | None = None


@post("/register/webauthn/begin", status_code=200, sync_to_thread=True)
def register_begin(data: JSONBody[RegisterBegin], request: AnyRequest) -> Response[dict[str, Any]]:
    rt, tenant, pool = context(request)
    rt.limiter.limit("pool", ip=request_meta(request).ip, tenant_id=tenant.id)
    ref = flow_ref(request, data.flow_id) if data.flow_id else None
    with _refusals_recorded(request, tenant, POOL_SIGNED_UP, BotCheckFailed):
        begun = pool_ceremonies.register_begin(
            rt,
            tenant,
            pool,
            identifier=data.identifier,
            profile=data.profile,
            bot_solution=data.altcha,
            ref=ref,
        )
    return _options_response(request, tenant, pool, begun)


def _refusals_recorded(
    request: AnyRequest, tenant: Tenant, kind: str, *errors: type[LatchkeyError]
) -> AbstractContextManager[None]:
    """Failed bot checks and wrong recovery codes are events (reason: the error code), so
    operators see guessing and scripted sign-ups on the overview's failure chart."""
    return events.failures_recorded(
        runtime(request),
        tenant_id=tenant.id,
        kind=kind,
        meta=request_meta(request),
        errors=errors,
        # The pool the URL names (its id, not the name it may be called by).
        detail={"pool_id": context(request)[2].id},
    )


def _finish(
    request: AnyRequest,
    credential: dict[str, Any],
    flow_id: str | None,
    step: Callable[..., SignedIn],
) -> Response[dict[str, Any]]:
    rt, tenant, pool = context(request)
    # A verification costs a signature check: count it like options.
    rt.limiter.limit("pool", ip=request_meta(request).ip, tenant_id=tenant.id)
    done = step(
        rt,
        tenant,
        pool,
        credential=credential,
        ref=flow_ref(request, flow_id),
        meta=request_meta(request),
    )
    return signed_in_response(request, tenant, pool, done)


@post("/register/webauthn/finish", status_code=200, sync_to_thread=True)
def register_finish(
    data: JSONBody[dict[str, Any]], request: AnyRequest, flow_id: FlowQuery = None
) -> Response[dict[str, Any]]:
    sender = request.app.state.settings.mail_from
    # The e-mail verification mail speaks the sign-up page's language.
    translator = page_language.translator(request, context(request)[2])
    finish = partial(pool_ceremonies.register_finish, sender=sender, translator=translator)
    return _finish(request, data, flow_id, finish)


# How long ago the page was loaded, as the page measures it (the funnel's time to sign in).
SinceLoad = Annotated[int, msgspec.Meta(ge=0, le=sign_in_journey.MAX_SINCE_LOAD_MS)]


class LoginOptions(msgspec.Struct, kw_only=True):
    identifier: Text | None = None
    flow_id: FlowId | None = None
    # Which prompt the page opens: the funnel counts sign-ins by method.
    prompt: sign_in_journey.PasskeyPrompt | None = None
    since_load_ms: SinceLoad | None = None


@post("/login/webauthn/options", status_code=200, sync_to_thread=True)
def login_options(data: JSONBody[LoginOptions], request: AnyRequest) -> Response[dict[str, Any]]:
    rt, tenant, pool = context(request)
    rt.limiter.limit("pool", ip=request_meta(request).ip, tenant_id=tenant.id)
    ref = flow_ref(request, data.flow_id) if data.flow_id else None
    begun = pool_ceremonies.login_options(
        rt,
        tenant,
        pool,
        identifier=data.identifier,
        ref=ref,
        prompt=data.prompt,
        since_load_ms=data.since_load_ms,
    )
    return _options_response(request, tenant, pool, begun)


@post("/login/webauthn/finish", status_code=200, sync_to_thread=True)
def login_finish(
    data: JSONBody[dict[str, Any]], request: AnyRequest, flow_id: FlowQuery = None
) -> Response[dict[str, Any]]:
    return _finish(request, data, flow_id, pool_ceremonies.login_finish)


class PasswordSignIn(msgspec.Struct, kw_only=True):
    identifier: Text
    password: Annotated[str, msgspec.Meta(max_length=256)]
    flow_id: FlowId | None = None
    since_load_ms: SinceLoad | None = None


@post("/login/password", status_code=200, sync_to_thread=True)
def login_password(data: JSONBody[PasswordSignIn], request: AnyRequest) -> Response[dict[str, Any]]:
    """Only in pools that enable passwords; the page then offers a passkey."""
    rt, tenant, pool = context(request)
    rt.limiter.limit("pool", ip=request_meta(request).ip, tenant_id=tenant.id)
    done = pool_passwords.sign_in(
        rt,
        tenant,
        pool,
        identifier=data.identifier,
        password=data.password,
        ref=flow_ref(request, data.flow_id) if data.flow_id else None,
        meta=request_meta(request),
        since_load_ms=data.since_load_ms,
    )
    return signed_in_response(request, tenant, pool, done)


class RecoveryBegin(msgspec.Struct, kw_only=True):
    identifier: Text
    altcha: Annotated[str, msgspec.Meta(max_length=4096)] | None = None
    # The sign-in flow the recovery page was opened from: the recovered user returns to where
    # it was going (an app's authorization request).
    login_flow_id: FlowId | None = None
    # The page's own recovery flow, which asked for the bot check.
    flow_id: FlowId | None = None


def _return_to(
    rt: Runtime, request: AnyRequest, tenant: Tenant, pool: pools.Pool, flow_id: str | None
) -> str | None:
    """The return address of this browser's own sign-in flow, if it names one and has one."""
    if not flow_id:
        return None
    try:
        with rt.read() as conn:
            login = flow_refs.load_flow(
                conn, rt, tenant, pool, flows.LOGIN, flow_ref(request, flow_id)
            )
    except LatchkeyError:
        return None
    found = login.context.get("return_to")
    return str(found) if found else None


def _link_base(rt: Runtime, tenant: Tenant, pool: pools.Pool) -> str:
    # Mailed: the pool's id, which a rename never changes.
    return f"{rt.public_url}{pool_prefix(tenant.id, pool.id)}recovery"


@post("/recovery/begin", status_code=200, sync_to_thread=True)
def recovery_begin(data: JSONBody[RecoveryBegin], request: AnyRequest) -> Response[dict[str, Any]]:
    """Always the same answer, whether or not the account exists."""
    rt, tenant, pool = context(request)
    rt.limiter.limit("pool", ip=request_meta(request).ip, tenant_id=tenant.id)
    with _refusals_recorded(request, tenant, POOL_RECOVERY_REQUESTED, BotCheckFailed):
        flow, started = recovery.request(
            rt,
            tenant,
            pool,
            identifier=data.identifier,
            bot_solution=data.altcha,
            sender=request.app.state.settings.mail_from,
            link_base=_link_base(rt, tenant, pool),
            meta=request_meta(request),
            return_to=_return_to(rt, request, tenant, pool, data.login_flow_id),
            # The mail speaks the language of the page that asked for it.
            translator=page_language.translator(request, pool),
            ref=flow_ref(request, data.flow_id) if data.flow_id else None,
        )
    body = {"flow_id": flow.id, "state": recovery.CODE_SENT}
    cookies = [flow_cookie(request, tenant.id, url_pool(request), started)] if started else []
    return Response(body, cookies=cookies, headers={"cache-control": "no-store"})


def _recovered_response(
    request: AnyRequest, tenant: Tenant, pool: pools.Pool, done: recovery.Recovered
) -> Response[dict[str, Any]]:
    # The next step registers the new passkey: register/webauthn/begin with this flow_id.
    body = {"flow_id": done.flow.id, "state": "recovered"}
    cookie = flow_cookie(request, tenant.id, url_pool(request), done.cookie)
    return Response(body, cookies=[cookie], headers={"cache-control": "no-store"})


# A code or link that is wrong, spent, expired or out of attempts.
_WRONG_CODE = (
    recovery.RecoveryCodeInvalid,
    recovery.RecoveryCodeExpired,
    recovery.RecoveryAttemptsExceeded,
    flows.FlowUsed,
)


class RecoveryCode(msgspec.Struct, kw_only=True):
    code: Annotated[str, msgspec.Meta(max_length=32)]
    flow_id: FlowId | None = None


@post("/recovery/verify", status_code=200, sync_to_thread=True)
def recovery_verify(data: JSONBody[RecoveryCode], request: AnyRequest) -> Response[dict[str, Any]]:
    rt, tenant, pool = context(request)
    rt.limiter.limit("pool", ip=request_meta(request).ip, tenant_id=tenant.id)
    with _refusals_recorded(request, tenant, POOL_RECOVERED, *_WRONG_CODE):
        done = recovery.verify_code(
            rt,
            tenant,
            pool,
            code=data.code,
            ref=flow_ref(request, data.flow_id),
            meta=request_meta(request),
        )
    return _recovered_response(request, tenant, pool, done)


class RecoveryLink(msgspec.Struct, kw_only=True):
    token: Annotated[str, msgspec.Meta(max_length=128)]


@post("/recovery/link", status_code=200, sync_to_thread=True)
def recovery_link(data: JSONBody[RecoveryLink], request: AnyRequest) -> Response[dict[str, Any]]:
    rt, tenant, pool = context(request)
    rt.limiter.limit("pool", ip=request_meta(request).ip, tenant_id=tenant.id)
    with _refusals_recorded(request, tenant, POOL_RECOVERED, *_WRONG_CODE):
        done = recovery.follow_link(rt, tenant, pool, token=data.token, meta=request_meta(request))
    return _recovered_response(request, tenant, pool, done)


def _verified_response(
    request: AnyRequest, tenant: Tenant, done: email_verification.Verified
) -> Response[dict[str, Any]]:
    prefix = pool_prefix(tenant.id, url_pool(request))
    body = {
        "flow_id": done.flow.id,
        "user_id": done.user_id,
        "verified": True,
        "redirect_to": done.return_to or prefix + "account",
    }
    cookies = [Cookie(key=FLOW_COOKIE, value="", path=prefix, max_age=0)]
    if done.session is not None:
        cookies.append(session_cookie(request, tenant.id, done.session))
    return Response(body, cookies=cookies, headers={"cache-control": "no-store"})


@post("/verification/verify", status_code=200, sync_to_thread=True)
def verification_verify(
    data: JSONBody[RecoveryCode], request: AnyRequest
) -> Response[dict[str, Any]]:
    """The code of the sign-up's verification mail, in the browser that signed up."""
    rt, tenant, pool = context(request)
    rt.limiter.limit("pool", ip=request_meta(request).ip, tenant_id=tenant.id)
    with _refusals_recorded(request, tenant, POOL_EMAIL_VERIFIED, *_WRONG_CODE):
        done = email_verification.verify_code(
            rt,
            tenant,
            pool,
            code=data.code,
            ref=flow_ref(request, data.flow_id),
            meta=request_meta(request),
        )
    return _verified_response(request, tenant, done)


@post("/verification/link", status_code=200, sync_to_thread=True)
def verification_link(
    data: JSONBody[RecoveryLink], request: AnyRequest
) -> Response[dict[str, Any]]:
    """The mailed link's token, from the verify page in the browser that signed up."""
    rt, tenant, pool = context(request)
    rt.limiter.limit("pool", ip=request_meta(request).ip, tenant_id=tenant.id)
    with _refusals_recorded(request, tenant, POOL_EMAIL_VERIFIED, *_WRONG_CODE):
        done = email_verification.follow_link(
            rt,
            tenant,
            pool,
            token=data.token,
            cookie=flow_ref(request, None).cookie,
            meta=request_meta(request),
        )
    return _verified_response(request, tenant, done)


router = Router(
    path="/{tenant_id:str}/identity/{pool_id:str}",
    exception_handlers=errors.POOL.handlers,
    tags=["identity pools"],
    route_handlers=[
        register_begin,
        register_finish,
        login_options,
        login_finish,
        login_password,
        recovery_begin,
        recovery_verify,
        recovery_link,
        verification_verify,
        verification_link,
        *account.HANDLERS,
        *milestones.HANDLERS,
        *pages.HANDLERS,
    ],
)
