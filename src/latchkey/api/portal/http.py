"""What every portal page shares: the session (or a redirect to sign in), the CSRF check of a
form (the only way a change gets its operator), rendering with the portal's headers (a strict
CSP: no inline script or style), and answering a refused change by showing the page again with
the reason. Changes go through services/operator_changes.py, as the management API's do."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import msgspec
from litestar import Response
from litestar.response import Redirect

from latchkey.api.admin.portal_session import CsrfFailed, check_origin
from latchkey.api.context import AnyRequest, request_meta, runtime
from latchkey.errors import LatchkeyError, Unauthorized
from latchkey.services import operator_changes, tenants, views
from latchkey.services.operator_changes import Who
from latchkey.services.operators import sessions
from latchkey.services.operators.accounts import OperatorAccount
from latchkey.web.pages import render

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
HEADERS = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    # same-origin, not no-referrer: under no-referrer a browser sends `Origin: null` with a
    # form, and the origin check needs the real one. Nothing secret is ever in a portal URL.
    "referrer-policy": "same-origin",
    "cache-control": "no-store",
}
# What a redirect after a change may say (never text taken from the request).
DONE = {
    "tenant_created": "Tenant created.",
    "tenant_saved": "Tenant settings saved.",
    "app_created": "App created.",
    "app_deleted": "App deleted.",
    "directory_created": "Directory created.",
    "pool_saved": "Pool settings saved.",
    "user_disabled": "User disabled: their passkeys no longer sign them in.",
    "user_enabled": "User enabled.",
    "passkey_renamed": "Passkey renamed.",
    "passkey_revoked": "Passkey revoked: its next sign-in fails.",
    "api_key_revoked": "API key revoked.",
    "signing_key_rotated": "Signing key rotated.",
    "webhook_updated": "Webhook endpoint updated.",
    "webhook_deleted": "Webhook endpoint deleted.",
    "redelivered": "Delivery queued again.",
    "signed_in": "Signed in.",
}


class NotSignedIn(Unauthorized):
    code = "portal_sign_in_required"


def session(request: AnyRequest) -> tuple[OperatorAccount, str]:
    """The signed-in operator and the session secret, or NotSignedIn (a redirect to sign in)."""
    secret = request.cookies.get(sessions.COOKIE)
    account = sessions.authenticate(runtime(request), secret)
    if account is None or secret is None:
        raise NotSignedIn("sign in to the portal")
    return account, secret


def checked_form(request: AnyRequest, data: dict[str, Any]) -> Who:
    """The operator behind a portal form whose CSRF token is right and who came from the
    portal's origin, as a change takes them."""
    account, secret = session(request)
    check_origin(request)
    if not sessions.csrf_matches(secret, _text(data.get(sessions.CSRF_FIELD))):
        raise CsrfFailed("the form's CSRF token is missing or wrong: reload the page")
    return Who(account.principal(), request_meta(request))


def viewer(request: AnyRequest) -> Who:
    """The signed-in operator of a page that only reads."""
    account, _ = session(request)
    return Who(account.principal(), request_meta(request))


def tenant(request: AnyRequest, tenant_id: str) -> views.TenantOut:
    """The page's tenant, when the operator may see it (another tenant's id: not found)."""
    rt = runtime(request)
    return views.tenant_view(rt, operator_changes.tenant(rt, viewer(request), tenant_id))


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def field(data: dict[str, Any], name: str, *, limit: int = 4096) -> str:
    """A form field as text ('' when absent); an oversized or repeated one is refused."""
    value = data.get(name, "")
    if not isinstance(value, str):
        raise FormError(f"{name} must be given once")
    if len(value) > limit:
        raise FormError(f"{name} is longer than {limit} characters")
    return value.strip()


def lines(data: dict[str, Any], name: str) -> list[str]:
    """A textarea of one value per line (blank lines ignored)."""
    return [line.strip() for line in field(data, name, limit=50_000).splitlines() if line.strip()]


class FormError(LatchkeyError):
    code = "invalid_form"


def page(request: AnyRequest, template: str, *, status: int = 200, **values: Any) -> Response[str]:
    account, secret = session(request)
    rt = runtime(request)
    visible = [t for t in tenants.list_all(rt) if account.principal().can_see(t.id)]
    done = request.query_params.get("done")
    body = render(
        f"portal/{template}",
        operator=account,
        csrf=sessions.csrf_token(secret),
        tenants=visible,
        notice=DONE.get(done or ""),
        path=request.scope["path"],
        **values,
    )
    return html(body, status)


def html(body: str, status: int = 200) -> Response[str]:
    return Response(
        body, status_code=status, media_type="text/html; charset=utf-8", headers=HEADERS
    )


def redirect(url: str, done: str | None = None) -> Redirect:
    target = f"{url}?{urlencode({'done': done})}" if done else url
    return Redirect(target, status_code=303, headers={"cache-control": "no-store"})


def attempt(action: Callable[[], Any]) -> tuple[Any, str | None, int]:
    """Run a change; on refusal, its message and status instead (the change was rolled back)."""
    result, refusal = tried(action)
    return (result, None, 200) if refusal is None else (None, refusal.message, refusal.status)


class Unprocessable(FormError):
    status = 422


def tried(action: Callable[[], Any]) -> tuple[Any, LatchkeyError | None]:
    """Run a change; on refusal, the error instead (the change was rolled back)."""
    try:
        return action(), None
    except LatchkeyError as exc:
        return None, exc
    except msgspec.ValidationError as exc:
        return None, Unprocessable(str(exc))


def refused(refusal: LatchkeyError, form: dict[str, Any]) -> dict[str, Any]:
    """What a page shows of a refused change: the reason, or when the check found several
    problems, each under its field (`problems`: field -> messages); and what was typed."""
    problems: dict[str, list[str]] = {}
    for problem in refusal.problems:
        problems.setdefault(problem.field, []).append(problem.message)
    error = refusal.message
    if problems:
        count = sum(len(found) for found in problems.values())
        error = "Not saved: " + (
            "fix the problem shown below."
            if count == 1
            else f"fix the {count} problems shown below."
        )
    return {"error": error, "problems": problems, "form": form}


Again = Callable[..., Response[str]]


def submit(
    request: AnyRequest,
    data: dict[str, Any],
    action: Callable[[Who], Any],
    *,
    again: Again,
    tenant_id: str,
    done: str,
    to: str | None = None,
) -> Response[Any]:
    """A form's change: its CSRF token checked, then `action(who)`; refused, the page again
    (`again(request, tenant_id, status, error=..., problems=..., form=...)`) with the reason and
    what was typed, else back to the page (`to`, by default the page shown again) with a fixed
    notice."""
    who = checked_form(request, data)
    _, refusal = tried(lambda: action(who))
    if refusal:
        return again(request, tenant_id, refusal.status, **refused(refusal, data))
    return redirect(to or request.scope["path"].rsplit("/", 2)[0], done)


def convert(values: dict[str, Any], into: type[Any]) -> Any:
    """Form values into a management API body, validated as the JSON API validates it."""
    return msgspec.convert(values, into, strict=False)
