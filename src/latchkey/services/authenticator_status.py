"""When newer FIDO metadata marks a model compromised or revoked, the passkeys already stored
hear of it: an `authenticator.status_changed` event and a portal alert per tenant holding them,
and the tenant's rule (`warn`; `block`: their sign-ins are refused; `notify`: their users are
also mailed). The `block` rule is checked at every sign-in of a tenant (services/metadata.py:
check_sign_in, from services/tenant_passkeys.py)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Connection

from latchkey.event_kinds import AUTHENTICATOR_STATUS_CHANGED
from latchkey.ids import new_id
from latchkey.mail.message import OutgoingMail
from latchkey.metadata.entries import Metadata
from latchkey.models import Tenant
from latchkey.runtime import RequestMeta, Runtime
from latchkey.services import events, mail_queue
from latchkey.store import authenticator_metadata as store
from latchkey.store import tenants as tenant_store


@dataclass(frozen=True)
class StatusChange:
    aaguid: str
    model: str
    status: str  # the compromise now reported
    previous_status: str | None


def changes(old: Metadata, new: Metadata) -> list[StatusChange]:
    """Models (by AAGUID) the new metadata reports compromised that the old one did not."""
    found = []
    for model in new.models:
        status = model.compromised_status
        if not model.aaguid or status is None:
            continue
        before = old.by_aaguid(model.aaguid)
        if before is not None and before.compromised_status == status:
            continue
        previous = before.status if before is not None else None
        found.append(StatusChange(model.aaguid, model.description, status, previous))
    return found


def raise_alerts(
    conn: Connection,
    rt: Runtime,
    found: Iterable[StatusChange],
    metadata: Metadata,
    *,
    sender: str,
) -> int:
    """An event and an alert for each tenant holding passkeys of a changed model; mails under
    the `notify` rule. In the caller's transaction. How many alerts were raised."""
    raised = 0
    now = rt.now()
    for change in found:
        for tenant_id, (passkeys, users) in store.holders(conn, change.aaguid).items():
            tenant = tenant_store.get(conn, tenant_id)
            if tenant is None:
                continue
            rule = tenant.policy.status_rule
            store.add_alert(
                conn,
                store.Alert(
                    id=new_id(),
                    tenant_id=tenant_id,
                    aaguid=change.aaguid,
                    model=change.model[:255],
                    status=change.status,
                    previous_status=change.previous_status,
                    metadata_no=metadata.no,
                    rule=rule,
                    passkeys=passkeys,
                    users=users,
                    created_at=now,
                ),
            )
            events.record(
                conn,
                rt,
                tenant_id=tenant_id,
                kind=AUTHENTICATOR_STATUS_CHANGED,
                meta=RequestMeta(),
                detail={
                    "aaguid": change.aaguid,
                    "model": change.model,
                    "status": change.status,
                    "previous_status": change.previous_status,
                    "metadata_no": metadata.no,
                    "rule": rule,
                    "passkeys": passkeys,
                    "users": users,
                },
            )
            if rule == "notify":
                _mail_users(conn, rt, tenant, change, sender=sender)
            raised += 1
    return raised


def _mail_users(
    conn: Connection, rt: Runtime, tenant: Tenant, change: StatusChange, *, sender: str
) -> None:
    for user in store.affected_users(conn, tenant.id, change.aaguid):
        if not user["email"]:
            continue
        mail_queue.queue(
            conn,
            rt,
            OutgoingMail(
                sender=sender,
                recipient=user["email"],
                subject=f"Replace your passkey for {tenant.rp_name}",
                text_body=(
                    f"The FIDO Alliance reports your {change.model} as"
                    f" {change.status.replace('_', ' ').lower()}.\n\n"
                    f"Please sign in to {tenant.rp_name}, add a passkey on another"
                    " authenticator, and then remove the one on this model."
                ),
            ),
            tenant_id=tenant.id,
        )
