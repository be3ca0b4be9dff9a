"""Portal pages for tenants: the list (and, for a global operator, a new tenant), a tenant's
settings (relying party, origins checked as they are typed, passkey policy, event retention),
and the small JSON endpoint that checks origins by the CLI's own rules (services/origins.py)."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Response, get, post
from litestar.params import FromPath, JSONBody

from latchkey.api.admin import schemas
from latchkey.api.admin.portal_session import portal_session
from latchkey.api.context import AnyRequest, runtime
from latchkey.api.portal.http import (
    FormError,
    NotSignedIn,
    checked_form,
    convert,
    field,
    lines,
    page,
    redirect,
    refused,
    session,
    submit,
    tenant,
    tried,
)
from latchkey.api.portal.signin import Form
from latchkey.api.schemas import Body as JsonBody
from latchkey.errors import ConfigError, LatchkeyError
from latchkey.runtime import Runtime
from latchkey.services import domains, metadata, operator_changes, views
from latchkey.services import origins as origin_rules
from latchkey.services.operator_changes import Who
from latchkey.webauthn.policy import (
    ATTESTATION,
    CERTIFICATION,
    KEY_PROTECTION,
    PRESETS,
    RESIDENT_KEY,
    STATUS_RULES,
    USER_VERIFICATION,
)

CHOICES = {
    "user_verification": USER_VERIFICATION,
    "resident_key": RESIDENT_KEY,
    "attestation": ATTESTATION,
}
RULE_CHOICES = {
    "policy_preset": ("", *PRESETS),
    "min_certification": ("", *CERTIFICATION),
    "key_protection": ("", *KEY_PROTECTION),
    "status_rule": STATUS_RULES,
}


class OriginCheck(JsonBody):
    rp_id: Annotated[str, msgspec.Meta(max_length=253)]
    origins: Annotated[
        list[Annotated[str, msgspec.Meta(max_length=2048)]], msgspec.Meta(max_length=50)
    ]


def origin_problems(rp_id: str, origins: list[str]) -> list[str]:
    """Every reason the service would refuse these settings (one per bad origin), as the
    CLI and the management API refuse them."""
    try:
        origin_rules.validate_origins(origins, origin_rules.validate_rp_id(rp_id))
    except ConfigError as exc:
        return problem_messages(exc)
    return []


def problem_messages(exc: LatchkeyError) -> list[str]:
    return [p.message for p in exc.problems] or [exc.message]


@post("/validate/origins", sync_to_thread=True, status_code=200)
def validate_origins(data: JSONBody[OriginCheck], request: AnyRequest) -> dict[str, Any]:
    """Nothing is written; the session (and its CSRF header) is required all the same."""
    if portal_session(request) is None:
        raise NotSignedIn("sign in to the portal")
    problems = origin_problems(data.rp_id, data.origins)
    return {"valid": not problems, "problems": problems}


def _list_page(request: AnyRequest, status: int = 200, **values: Any) -> Response[str]:
    return page(request, "tenants.html", title="Tenants", status=status, **values)


@get("", sync_to_thread=True)
def home(request: AnyRequest) -> Response[Any]:
    account, _ = session(request)
    if account.tenant_id is not None:
        return redirect(f"/portal/t/{account.tenant_id}")
    return _list_page(request)


def _tenant_body(data: dict[str, Any]) -> dict[str, Any]:
    return {
        "rpId": field(data, "rp_id", limit=253),
        "rpName": field(data, "rp_name", limit=200) or None,
        "name": field(data, "name", limit=200) or None,
        "origins": lines(data, "origins"),
    }


@post("/tenants", sync_to_thread=True, status_code=200)
def create_tenant(data: Form, request: AnyRequest) -> Response[Any]:
    who = checked_form(request, data)

    def create() -> schemas.TenantCreated:
        body = convert(_tenant_body(data), schemas.TenantCreate)
        rt = runtime(request)
        made, secret = operator_changes.create_tenant(rt, who, **schemas.tenant_changes(body))
        return schemas.TenantCreated(tenant=views.tenant_view(rt, made), secret_key=secret)

    made, refusal = tried(create)
    if refusal:
        return _list_page(request, refusal.status, **refused(refusal, data))
    return _list_page(request, created=made)


def settings_page(
    request: AnyRequest, tenant_id: str, status: int = 200, **values: Any
) -> Response[str]:
    shown = tenant(request, tenant_id)
    rt = runtime(request)
    return page(
        request, "settings.html", title="Settings", tenant=shown, choices=CHOICES,
        rules=RULE_CHOICES, models=model_lines(rt, shown.policy), fido_metadata=metadata.info(rt),
        domain_proof=[d.to_dict() for d in domains.statuses(rt, tenant_id)],
        status=status, **values,
    )  # fmt: skip


def model_lines(rt: Runtime, policy: dict[str, Any]) -> dict[str, str]:
    """The allow- and deny-lists as the metadata names their models, one per line (an AAGUID
    where the metadata does not know it)."""
    shown = {}
    for name in ("aaguid_allow", "aaguid_deny"):
        names = [metadata.name_of(rt, aaguid) or aaguid for aaguid in policy.get(name, [])]
        shown[name] = "\n".join(dict.fromkeys(names))
    return shown


def _rules(rt: Runtime, data: dict[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = {
        "minCertification": field(data, "min_certification", limit=10) or None,
        "keyProtection": field(data, "key_protection", limit=20) or None,
        "statusRule": field(data, "status_rule", limit=10),
        "aaguidAllow": metadata.resolve_models(rt, lines(data, "aaguid_allow")),
        "aaguidDeny": metadata.resolve_models(rt, lines(data, "aaguid_deny")),
    }
    preset = field(data, "policy_preset", limit=20)
    return body | ({"policyPreset": preset} if preset else {})


def _update(request: AnyRequest, who: Who, tenant_id: str, update: schemas.TenantUpdate) -> Any:
    return operator_changes.update_tenant(
        runtime(request), who, tenant_id, **schemas.tenant_changes(update)
    )


@post("/t/{tenant_id:str}/attestation", sync_to_thread=True, status_code=200)
def save_attestation(tenant_id: FromPath[str], data: Form, request: AnyRequest) -> Response[Any]:
    """The authenticator rules (docs/attestation.md): models by their metadata names."""

    def save(who: Who) -> Any:
        body = {"policy": _rules(runtime(request), data)}
        update = convert(body, schemas.TenantUpdate)
        return _update(request, who, tenant_id, update)

    def again(request: AnyRequest, tenant_id: str, status: int, **values: Any) -> Response[str]:
        # What was typed goes back to this form only; the settings form shows what is saved.
        return settings_page(
            request, tenant_id, status, error=values.get("error"), rules_form=values.get("form")
        )

    to = f"/portal/t/{tenant_id}/settings"
    return submit(request, data, save, again=again, tenant_id=tenant_id, done="tenant_saved", to=to)


@get("/t/{tenant_id:str}/settings", sync_to_thread=True)
def settings(tenant_id: FromPath[str], request: AnyRequest) -> Response[str]:
    session(request)
    return settings_page(request, tenant_id)


def _policy(data: dict[str, Any]) -> dict[str, Any]:
    return {
        "userVerification": field(data, "user_verification", limit=20),
        "residentKey": field(data, "resident_key", limit=20),
        "attestation": field(data, "attestation", limit=20),
        "allowSynced": data.get("allow_synced") == "on",
    }


@post("/t/{tenant_id:str}/settings", sync_to_thread=True, status_code=200)
def save_settings(tenant_id: FromPath[str], data: Form, request: AnyRequest) -> Response[Any]:
    def save(who: Who) -> Any:
        body = _tenant_body(data) | {
            "relatedOrigins": lines(data, "related_origins"),
            "policy": _policy(data),
        }
        update = convert(body, schemas.TenantUpdate)
        return _update(request, who, tenant_id, update)

    to = f"/portal/t/{tenant_id}/settings"
    return submit(
        request, data, save, again=settings_page, tenant_id=tenant_id, done="tenant_saved", to=to
    )


@post("/t/{tenant_id:str}/retention", sync_to_thread=True, status_code=200)
def save_retention(tenant_id: FromPath[str], data: Form, request: AnyRequest) -> Response[Any]:
    def save(who: Who) -> Any:
        days = field(data, "retention_days", limit=6)
        if days and not days.isdigit():
            raise FormError("event retention is a whole number of days (empty: for ever)")
        body = convert({"days": int(days) if days else None}, schemas.RetentionBody)
        return operator_changes.set_event_retention(runtime(request), who, tenant_id, body.days)

    to = f"/portal/t/{tenant_id}/settings"
    return submit(
        request, data, save, again=settings_page, tenant_id=tenant_id, done="tenant_saved", to=to
    )


@post("/t/{tenant_id:str}/domains", sync_to_thread=True, status_code=200)
def save_domains(tenant_id: FromPath[str], data: Form, request: AnyRequest) -> Response[Any]:
    """A global operator's act (the service refuses anyone else); each new domain serves
    nothing until `latchkey tenant verify-domain` proves it."""

    def save(who: Who) -> Any:
        update = convert({"domains": lines(data, "domains")}, schemas.TenantUpdate)
        return _update(request, who, tenant_id, update)

    to = f"/portal/t/{tenant_id}/settings"
    return submit(
        request, data, save, again=settings_page, tenant_id=tenant_id, done="tenant_saved", to=to
    )


handlers = [
    validate_origins,
    home,
    create_tenant,
    settings,
    save_settings,
    save_retention,
    save_attestation,
    save_domains,
]
