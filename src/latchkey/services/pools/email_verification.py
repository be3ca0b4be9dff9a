"""Proving a sign-up's e-mail address (issue 21 item 1): the sign-up mails a one-time code and
link (as recovery does, single use, 15 minutes, only their MACs stored, guesses limited);
either one, in the browser that signed up (its flow cookie), marks the address verified.

The pool decides (`email_verification`): `optional`, the default, lets the account work at
once, its address unverified until proved; `required` opens no session until the address is
proved, and refuses sign-ins to an account whose address is unproved (a lost code is replaced
by a recovery, which proves the address too); `off` mails nothing.

Why the link also needs the signing-up browser: a mail can reach the address's owner for an
account somebody else made with their address, and one click of theirs must not vouch for
the stranger's passkey.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from latchkey import i18n
from latchkey.errors import Forbidden
from latchkey.event_kinds import POOL_EMAIL_VERIFIED
from latchkey.i18n import N_
from latchkey.models import Flow, Tenant, User
from latchkey.runtime import RequestMeta, Runtime
from latchkey.services import events
from latchkey.services.amr import PASSKEY
from latchkey.services.pools import Pool, flow_refs, flows, recovery, sso
from latchkey.services.pools.flow_refs import FlowRef
from latchkey.store import identifiers as identifier_store
from latchkey.store import recovery_codes as code_store

OFF, REQUIRED = "off", "required"
_PARAGRAPHS = (
    N_("Confirm that this address is yours for your new %(pool)s account."),
    N_("Your code is %(code)s. Or open this link in the browser you signed up with:\n%(link)s"),
    N_(
        "Both work once, for %(minutes)s minutes. If you did not sign up, ignore this mail: "
        "whoever did cannot confirm it, and you can claim the address with \u201cLost your "
        "passkey?\u201d on the sign-in page."
    ),
)


class EmailUnverified(Forbidden):
    code = "email_unverified"


@dataclass(frozen=True)
class Verified:
    flow: Flow
    user_id: str
    # The session the sign-up did not open (pools that require a verified address).
    session: sso.Opened | None
    return_to: str | None


def _unproved_email(conn: Connection, user_id: str) -> str | None:
    found = identifier_store.with_verification(conn, user_id).get("email")
    return found[0] if found and not found[1] else None


def require_proved(conn: Connection, pool: Pool, user_id: str) -> None:
    """In a pool that requires it, refuse a sign-in to an account whose address is unproved."""
    if pool.settings.email_verification == REQUIRED and _unproved_email(conn, user_id):
        raise EmailUnverified(
            "confirm your e-mail address first: type the code we sent, or reset your passkey"
            " to get a new one"
        )


def start(
    conn: Connection,
    rt: Runtime,
    tenant: Tenant,
    pool: Pool,
    *,
    user: User,
    amr: list[str],
    credential_id: str,
    return_to: str | None,
    sender: str,
    translator: i18n.Translator | None = None,
) -> flows.Started | None:
    """After a sign-up: mail the code and link, in a verification flow bound to this browser.
    None when the pool mails nothing or the account has no unproved address."""
    email = _unproved_email(conn, user.id)
    if pool.settings.email_verification == OFF or email is None:
        return None
    context: dict[str, Any] = {"attempts": 0, "credential_id": credential_id, "amr": amr}
    if return_to:
        context["return_to"] = return_to
    started = flows.start(
        conn,
        rt,
        tenant_id=tenant.id,
        directory_id=pool.id,
        kind=flows.VERIFICATION,
        user_id=user.id,
    )
    flow = flows.advance(
        conn,
        rt,
        started.flow,
        from_states=(flows.ACTIVE,),
        to_state=recovery.CODE_SENT,
        context=context,
    )
    mail_confirmation(
        conn,
        rt,
        tenant,
        pool,
        flow,
        user_id=user.id,
        email=email,
        sender=sender,
        translator=translator or i18n.Translator(),
        link_base=f"{rt.public_url}/{tenant.id}/identity/{pool.id}/verify",
    )
    return flows.Started(flow, started.cookie)


def mail_confirmation(
    conn: Connection,
    rt: Runtime,
    tenant: Tenant,
    pool: Pool,
    flow: Flow,
    *,
    user_id: str | None,
    email: str,
    sender: str,
    translator: i18n.Translator,
    link_base: str,
    paragraphs: tuple[str, ...] = _PARAGRAPHS,
) -> None:
    """Queue the confirmation mail of a verification flow: a new code (and link) in the
    pool's words, `paragraphs` formatted with the pool, code, link and minutes."""
    recovery.mail_code(
        conn,
        rt,
        tenant,
        pool,
        flow,
        user_id=user_id,
        email=email,
        sender=sender,
        link_base=link_base,
        translator=translator,
        subject=N_("Confirm the e-mail address of your %(pool)s account"),
        paragraphs=paragraphs,
    )


def verify_code(
    rt: Runtime, tenant: Tenant, pool: Pool, *, code: str, ref: FlowRef, meta: RequestMeta
) -> Verified:
    """The typed code, in the browser that signed up."""
    flow, row = recovery.checked_code(rt, tenant, pool, flows.VERIFICATION, code=code, ref=ref)
    return _verified(rt, tenant, pool, flow, row, meta)


def follow_link(
    rt: Runtime, tenant: Tenant, pool: Pool, *, token: str, cookie: str | None, meta: RequestMeta
) -> Verified:
    """The mailed link, opened in the browser that signed up (its flow cookie)."""
    row = recovery.by_link(rt, token)
    if row is None:
        raise recovery.RecoveryCodeInvalid("this link is not valid")
    with rt.read() as conn:
        flow = flow_refs.load_flow(
            conn, rt, tenant, pool, flows.VERIFICATION, FlowRef(cookie, row.flow_id)
        )
    if row.used_at is not None or flow.state != recovery.CODE_SENT:
        raise flows.FlowUsed("this link was already used")
    if row.expires_at <= rt.now():
        raise recovery.RecoveryCodeExpired("this link has expired; sign in to get a new one")
    return _verified(rt, tenant, pool, flow, row, meta)


def _verified(
    rt: Runtime, tenant: Tenant, pool: Pool, flow: Flow, row: Any, meta: RequestMeta
) -> Verified:
    """Use the code once, mark the address verified and, where the sign-up could not, open
    the session of the passkey it made."""
    assert flow.user_id is not None
    with rt.transaction() as conn:
        if not code_store.use(conn, code_id=row.id, now=rt.now()):
            recovery.refuse_spent(rt, row)
        done = flows.advance(
            conn, rt, flow, from_states=(recovery.CODE_SENT,), to_state=flows.COMPLETED
        )
        identifier_store.mark_verified(conn, user_id=flow.user_id, kind="email", when=rt.now())
        opened = None
        if pool.settings.email_verification == REQUIRED:
            opened = sso.open_session(
                conn,
                rt,
                tenant_id=tenant.id,
                user_id=flow.user_id,
                amr=list(flow.context.get("amr") or [PASSKEY]),
                credential_id=flow.context.get("credential_id"),
            )
        events.record(
            conn,
            rt,
            tenant_id=tenant.id,
            kind=POOL_EMAIL_VERIFIED,
            meta=meta,
            user_id=flow.user_id,
            detail={"pool_id": pool.id, "flow_id": flow.id},
        )
    return Verified(done, flow.user_id, opened, flow.context.get("return_to"))
