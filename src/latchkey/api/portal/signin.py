"""Signing in to the portal: the enrolment page (a one-time link from `latchkey admin create`
registers the operator's passkey), the sign-in page, their JSON steps, and signing out."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Response, get, post
from litestar.datastructures import Cookie
from litestar.params import JSONBody, URLEncodedBody

from latchkey.api.admin.portal_session import check_origin
from latchkey.api.context import AnyRequest, request_meta, runtime
from latchkey.api.portal.http import checked_form, html, redirect
from latchkey.api.schemas import Body as JsonBody
from latchkey.runtime import Runtime
from latchkey.services import sealed_challenges
from latchkey.services.operators import ceremonies, sessions
from latchkey.services.operators.ceremonies import SignedIn
from latchkey.web.pages import render

Form = URLEncodedBody[dict[str, Any]]
Token = msgspec.Meta(min_length=10, max_length=100)
# A sign-in's challenge id is sealed (services/sealed_challenges.py): longer than a stored one.
ChallengeId = msgspec.Meta(min_length=1, max_length=sealed_challenges.MAX_LENGTH)


class EnrolStart(JsonBody):
    token: Annotated[str, Token]


class EnrolFinish(JsonBody):
    token: Annotated[str, Token]
    challenge_id: Annotated[str, ChallengeId]
    credential: dict[str, Any]


class LoginFinish(JsonBody):
    challenge_id: Annotated[str, ChallengeId]
    credential: dict[str, Any]


def _limit(request: AnyRequest) -> Runtime:
    """Anonymous steps: same-origin only, and counted per address like every other one."""
    check_origin(request)
    rt = runtime(request)
    # The client's address as the trusted proxies tell it (request.client is the proxy's).
    rt.limiter.limit("portal", ip=request_meta(request).ip)
    return rt


def _signed_in(rt: Runtime, done: SignedIn) -> Response[dict[str, str]]:
    cookie = Cookie(
        key=sessions.COOKIE,
        value=done.session_secret,
        path="/",
        httponly=True,
        samesite="strict",
        secure=rt.public_url.startswith("https://"),
        max_age=int(sessions.SESSION_TTL.total_seconds()),
    )
    return Response({"next": "/portal"}, cookies=[cookie], headers={"cache-control": "no-store"})


@get("/login", sync_to_thread=False)
def login_page() -> Response[str]:
    return html(render("portal/login.html", title="Sign in"))


@get("/enrol", sync_to_thread=False)
def enrol_page() -> Response[str]:
    return html(render("portal/enrol.html", title="Register your passkey"))


@post("/enrol/options", sync_to_thread=True, status_code=200)
def enrol_options(data: JSONBody[EnrolStart], request: AnyRequest) -> dict[str, Any]:
    started = ceremonies.enrol_options(_limit(request), data.token)
    return {"challengeId": started.challenge_id, "options": started.options}


@post("/enrol/finish", sync_to_thread=True, status_code=200)
def enrol_finish(data: JSONBody[EnrolFinish], request: AnyRequest) -> Response[dict[str, str]]:
    rt = _limit(request)
    done = ceremonies.enrol_finish(
        rt, data.token, data.challenge_id, data.credential, request_meta(request)
    )
    return _signed_in(rt, done)


@post("/login/options", sync_to_thread=True, status_code=200)
def login_options(request: AnyRequest) -> dict[str, Any]:
    started = ceremonies.login_options(_limit(request))
    return {"challengeId": started.challenge_id, "options": started.options}


@post("/login/finish", sync_to_thread=True, status_code=200)
def login_finish(data: JSONBody[LoginFinish], request: AnyRequest) -> Response[dict[str, str]]:
    rt = _limit(request)
    done = ceremonies.login_finish(rt, data.challenge_id, data.credential, request_meta(request))
    return _signed_in(rt, done)


@post("/logout", sync_to_thread=True, status_code=303)
def logout(data: Form, request: AnyRequest) -> Response[Any]:
    checked_form(request, data)
    sessions.end(runtime(request), request.cookies.get(sessions.COOKIE))
    answer = redirect("/portal/login")
    answer.delete_cookie(sessions.COOKIE, path="/")
    return answer


handlers = [
    login_page,
    enrol_page,
    enrol_options,
    enrol_finish,
    login_options,
    login_finish,
    logout,
]
