"""Portal pages for pools (user directories and their hosted pages' settings): the settings as
a form, each field refused with the reason services/pools/__init__.py gives the management API, and
the pool's own wording of catalog messages."""

from __future__ import annotations

import re
from typing import Any

from litestar import Response, get, post
from litestar.params import FromPath

from latchkey import i18n
from latchkey.api.admin import schemas
from latchkey.api.context import AnyRequest, runtime
from latchkey.api.portal.http import FormError, convert, field, page, session, submit, tenant
from latchkey.api.portal.signin import Form
from latchkey.errors import Problem
from latchkey.services import directories, operator_changes, pools, views
from latchkey.services.operator_changes import Who
from latchkey.services.operators.sessions import CSRF_FIELD
from latchkey.services.pools import BOT_CHECK_COMPLEXITY, EMAIL_VERIFICATION, MAX_PASSKEYS_LIMIT

# The settings form's fields: each is the pool setting of the same name (branding's under
# `branding.`), so the service's reasons land under the field they are about.
FLAGS = (
    "self_registration",
    "bot_check",
    "password",
    "identifier_first",
    "recovery_keeps_passkeys",
)
NUMBERS = ("max_passkeys", "bot_check_complexity")
TEXTS = ("display_name", "email_sender", "email_verification", "default_locale")
BRANDING = ("name", "logo_url", "primary_color")
FIELDS = {*FLAGS, *NUMBERS, *TEXTS, *(f"branding.{name}" for name in BRANDING), CSRF_FIELD}
_WHOLE = re.compile(r"^-?[0-9]{1,12}$")


def pools_page(
    request: AnyRequest, tenant_id: str, status: int = 200, **values: Any
) -> Response[str]:
    shown = tenant(request, tenant_id)
    rt = runtime(request)
    found = [
        (views.DirectoryOut.of(d), views.PoolOut.of(pools.get(rt, shown.id, d.id)))
        for d in directories.list_for(rt, shown.id)
    ]
    return page(
        request, "pools.html", title="Pools", tenant=shown, pools=found, status=status,
        locales=i18n.LOCALES, catalog=i18n.catalog_messages(), verification=EMAIL_VERIFICATION,
        limits={"max_passkeys": (1, MAX_PASSKEYS_LIMIT),
                "bot_check_complexity": BOT_CHECK_COMPLEXITY},
        **values,
    )  # fmt: skip


@get("/t/{tenant_id:str}/pools", sync_to_thread=True)
def pool_list(tenant_id: FromPath[str], request: AnyRequest) -> Response[str]:
    session(request)
    return pools_page(request, tenant_id)


@post("/t/{tenant_id:str}/pools", sync_to_thread=True, status_code=200)
def create_directory(tenant_id: FromPath[str], data: Form, request: AnyRequest) -> Response[Any]:
    def call(who: Who) -> Any:
        identifiers = {
            kind: field(data, kind, limit=10)
            for kind in ("email", "phone_number", "username")
            if field(data, kind, limit=10) not in ("", "off")
        }
        body = {"name": field(data, "name", limit=64), "identifiers": identifiers}
        made = convert(body, schemas.DirectoryCreate)
        return operator_changes.create_directory(
            runtime(request), who, tenant_id, made.name, dict(made.identifiers)
        )

    to = f"/portal/t/{tenant_id}/pools"
    return submit(
        request, data, call, again=pools_page, tenant_id=tenant_id, done="directory_created", to=to
    )


def settings_of_form(data: dict[str, Any]) -> dict[str, Any]:
    """The form as the management API's JSON. Nothing typed is dropped or guessed: a number
    that is not one goes to the service as the text it is, which refuses it with its reason;
    a field the form does not have is refused."""
    unknown = sorted(set(data) - FIELDS)
    if unknown:
        message = f"unknown pool settings: {', '.join(unknown)}"
        raise FormError(message, problems=(Problem("settings", message),))
    settings: dict[str, Any] = {name: data.get(name) == "on" for name in FLAGS}
    for name in NUMBERS:
        value = field(data, name)
        settings[name] = int(value) if _WHOLE.match(value) else value
    for name in TEXTS:
        settings[name] = field(data, name) or None
    settings["branding"] = {name: field(data, f"branding.{name}") or None for name in BRANDING}
    return settings


@post("/t/{tenant_id:str}/pools/{pool:str}", sync_to_thread=True, status_code=200)
def configure_pool(
    tenant_id: FromPath[str], pool: FromPath[str], data: Form, request: AnyRequest
) -> Response[Any]:
    def call(who: Who) -> Any:
        changes = settings_of_form(data)
        return operator_changes.configure_pool(runtime(request), who, tenant_id, pool, changes)

    def again(request: AnyRequest, tenant_id: str, status: int, **values: Any) -> Response[str]:
        # What was typed, and each reason, go back to this pool's form only; a reason about no
        # field of the form is said above the form rather than lost.
        found = values.get("problems", {})
        unplaced = [m for name, said in found.items() if name not in FIELDS for m in said]
        return pools_page(
            request, tenant_id, status, refused_pool=pool, unplaced=unplaced, **values
        )

    to = f"/portal/t/{tenant_id}/pools"
    return submit(request, data, call, again=again, tenant_id=tenant_id, done="pool_saved", to=to)


@post("/t/{tenant_id:str}/pools/{pool:str}/messages", sync_to_thread=True, status_code=200)
def pool_message(
    tenant_id: FromPath[str], pool: FromPath[str], data: Form, request: AnyRequest
) -> Response[Any]:
    """The pool's own wording of one message in one language; an empty text removes it."""

    def call(who: Who) -> Any:
        locale = field(data, "locale", limit=10)
        # A form sends line breaks as CRLF (HTML's newline normalisation); the catalog has LF.
        msgid = field(data, "message", limit=2000).replace("\r\n", "\n")
        text = field(data, "text", limit=2000).replace("\r\n", "\n")
        return operator_changes.set_pool_message(
            runtime(request), who, tenant_id, pool, locale, msgid, text or None
        )

    def again(request: AnyRequest, tenant_id: str, status: int, **values: Any) -> Response[str]:
        return pools_page(request, tenant_id, status, refused_messages=pool, **values)

    to = f"/portal/t/{tenant_id}/pools"
    return submit(request, data, call, again=again, tenant_id=tenant_id, done="pool_saved", to=to)


handlers = [pool_list, create_directory, configure_pool, pool_message]
