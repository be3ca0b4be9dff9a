"""The portal session as a way to call the management API (api/admin/auth.py) and the portal's
JSON steps: the cookie names the operator; a state-changing call must also prove it comes from
a portal page (the CSRF token in the X-CSRF-Token header) and, when the browser says where it
comes from, come from the portal's own origin. Portal forms check their own token
(api/portal/http.py checked_form)."""

from __future__ import annotations

from latchkey.api.context import AnyRequest, runtime
from latchkey.errors import Forbidden, Unauthorized
from latchkey.services.operators import Operator, accounts, sessions

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class InvalidPortalSession(Unauthorized):
    code = "invalid_portal_session"


class CsrfFailed(Forbidden):
    code = "csrf_failed"


def check_origin(request: AnyRequest) -> None:
    """A cross-site request is refused whatever else it carries (SameSite=Strict aside)."""
    sent = request.headers.get("origin")
    if sent is not None and sent != accounts.portal_origin(runtime(request)):
        raise CsrfFailed(f"a portal request must come from the portal's origin, not {sent!r}")


def portal_session(request: AnyRequest) -> Operator | None:
    secret = request.cookies.get(sessions.COOKIE)
    if not secret:
        return None
    account = sessions.authenticate(runtime(request), secret)
    if account is None:
        raise InvalidPortalSession("the portal session expired or was signed out: sign in again")
    if request.method not in SAFE_METHODS:
        check_origin(request)
        header = request.headers.get(sessions.CSRF_HEADER)
        if not sessions.csrf_matches(secret, header):
            raise CsrfFailed(
                "a state-changing call with the portal session needs its CSRF token"
                f" ({sessions.CSRF_HEADER} header)"
            )
    return account.principal()
