"""Passkey recovery ("reset passkey") for identity pools.

The user gives an identifier; when it belongs to an account with an e-mail address, Latchkey
mails a one-time code and a link (single use, 15 minutes, only their HMACs stored, guesses
limited). The answer is the same whether or not the account exists, and so are the refusals
of wrong codes. A correct code or link proves the account's e-mail (taking over an account
whose e-mail nobody had proved, services/pools/account_recovery.py) and starts a registration flow
for that user: their new passkey replaces the lost ones (services/pools/ceremonies.py).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import Connection

from latchkey import i18n
from latchkey.errors import InvalidRequest, LatchkeyError
from latchkey.event_kinds import POOL_RECOVERED, POOL_RECOVERY_REQUESTED
from latchkey.i18n import N_
from latchkey.ids import new_id, new_token
from latchkey.mail.message import OutgoingMail
from latchkey.models import Flow, Tenant
from latchkey.runtime import RequestMeta, Runtime
from latchkey.services import events, mail_queue, sealing
from latchkey.services.pools import (
    Pool,
    account_recovery,
    botcheck,
    flow_refs,
    flows,
    identifier_lookup,
    recovery_limits,
)
from latchkey.services.pools.flow_refs import FlowRef
from latchkey.store import flows as flow_store
from latchkey.store import recovery_codes as code_store
from latchkey.store import users as user_store

CODE_LIFETIME = timedelta(minutes=15)
MAX_ATTEMPTS = 5
CODE_SENT = "code_sent"


class RecoveryCodeInvalid(InvalidRequest):
    code = "recovery_code_invalid"


class RecoveryCodeExpired(InvalidRequest):
    code = "recovery_code_expired"
    status = 410


class RecoveryAttemptsExceeded(LatchkeyError):
    code = "recovery_attempts_exceeded"
    status = 429


@dataclass(frozen=True)
class Recovered:
    """The registration flow (with its cookie) in which the user makes a new passkey."""

    flow: Flow
    cookie: str
    user_id: str


def _key(rt: Runtime) -> bytes:
    return sealing.derive(rt.master_key, "latchkey recovery codes")


def _code_mac(rt: Runtime, flow_id: str, code: str) -> bytes:
    # Keyed and bound to the flow: a six-digit code's hash alone would be trivial to invert.
    return hmac.new(_key(rt), f"{flow_id}:{code}".encode(), hashlib.sha256).digest()


def _link_mac(rt: Runtime, token: str) -> bytes:
    return hmac.new(_key(rt), f"link:{token}".encode(), hashlib.sha256).digest()


def request(
    rt: Runtime,
    tenant: Tenant,
    pool: Pool,
    *,
    identifier: str,
    bot_solution: str | None,
    sender: str,
    link_base: str,
    meta: RequestMeta,
    return_to: str | None = None,
    translator: i18n.Translator | None = None,
    ref: FlowRef | None = None,
) -> tuple[Flow, str | None]:
    """Start a recovery flow (the page's own, when `ref` names it; else a new one, with its
    cookie) and, when the account exists and has an e-mail, queue the mail (in the same
    transaction: a code is never stored without its mail, nor mailed unstored)."""
    if not isinstance(identifier, str) or not identifier.strip():
        raise InvalidRequest("identifier is required")
    with rt.transaction() as conn:
        flow, cookie = flow_refs.flow_for(conn, rt, tenant, pool, flows.RECOVERY, ref)
        if pool.settings.bot_check:
            # Only a solution this flow asked for (issue 21 item 5).
            botcheck.verify(conn, rt, tenant.id, bot_solution, flow_id=flow.id)
        user_id = identifier_lookup.find_user(conn, pool, identifier)
        user = user_store.get(conn, tenant.id, user_id) if user_id else None
        # Past the account's or the address's mail limit: the same answer, and no mail.
        mailed = False
        if (
            user is not None
            and user.email
            and recovery_limits.may_mail(
                conn, rt, tenant_id=tenant.id, user_id=user.id, email=user.email
            )
        ):
            mail = _Mail(user.email, sender, link_base, translator or i18n.Translator())
            _issue(conn, rt, tenant, pool, flow, user.id, mail)
            mailed = True
        flows.advance(
            conn,
            rt,
            flow,
            from_states=(flows.ACTIVE,),
            to_state=CODE_SENT,
            context={"attempts": 0, **({"return_to": return_to} if return_to else {})},
        )
        events.record(
            conn,
            rt,
            tenant_id=tenant.id,
            kind=POOL_RECOVERY_REQUESTED,
            meta=meta,
            user_id=user.id if user else None,
            detail={"pool_id": pool.id, "mailed": mailed},
        )
    return flow, cookie


def new_code(
    conn: Connection, rt: Runtime, tenant_id: str, flow: Flow, user_id: str | None
) -> tuple[str, str]:
    """A one-time code and link token for the flow (also the e-mail verification's), stored
    as keyed MACs; returns them in clear, for the mail. No user: a native sign-up's, whose
    account is stored only once the code is proved."""
    code = f"{secrets.randbelow(10**6):06d}"
    link_token = new_token(32)
    now = rt.now()
    code_store.add(
        conn,
        id=new_id(),
        tenant_id=tenant_id,
        flow_id=flow.id,
        user_id=user_id,
        code_hash=_code_mac(rt, flow.id, code),
        link_hash=_link_mac(rt, link_token),
        attempts=0,
        created_at=now,
        expires_at=now + CODE_LIFETIME,
        used_at=None,
    )
    return code, link_token


def mail_code(
    conn: Connection,
    rt: Runtime,
    tenant: Tenant,
    pool: Pool,
    flow: Flow,
    *,
    user_id: str | None,
    email: str,
    sender: str,
    link_base: str,
    translator: i18n.Translator,
    subject: str,
    paragraphs: Sequence[str],
) -> None:
    """Store a new code for the flow and queue its mail: `subject` and `paragraphs` (message
    ids) in the translator's language, formatted with the pool, code, link and minutes. No
    code in the subject: subjects show on lock screens and in mail logs."""
    code, link_token = new_code(conn, rt, tenant.id, flow, user_id)
    text = translator.gettext
    values = {
        "pool": pool.name,
        "code": code,
        "link": f"{link_base}?token={link_token}",
        "minutes": int(CODE_LIFETIME.total_seconds() // 60),
    }
    mail_queue.queue(
        conn,
        rt,
        OutgoingMail(
            sender=pool.settings.email_sender or sender,
            recipient=email,
            subject=text(subject) % {"pool": pool.name},
            text_body="\n\n".join(text(paragraph) % values for paragraph in paragraphs),
        ),
        tenant_id=tenant.id,
    )


@dataclass(frozen=True)
class _Mail:
    """Where the recovery mail goes, from whom, and in which language."""

    recipient: str
    sender: str
    link_base: str
    translator: i18n.Translator


def _issue(
    conn: Connection,
    rt: Runtime,
    tenant: Tenant,
    pool: Pool,
    flow: Flow,
    user_id: str,
    mail: _Mail,
) -> None:
    paragraphs = (
        N_("Someone asked to reset the passkey of your %(pool)s account."),
        N_("Your code is %(code)s. Or open this link:\n%(link)s"),
        N_(
            "Both work once, for %(minutes)s minutes. If it was not you, ignore this mail: "
            "your account is unchanged."
        ),
    )
    mail_code(
        conn,
        rt,
        tenant,
        pool,
        flow,
        user_id=user_id,
        email=mail.recipient,
        sender=mail.sender,
        link_base=mail.link_base,
        translator=mail.translator,
        subject=N_("Reset the passkey of your %(pool)s account"),
        paragraphs=paragraphs,
    )


def verify_code(
    rt: Runtime, tenant: Tenant, pool: Pool, *, code: str, ref: FlowRef, meta: RequestMeta
) -> Recovered:
    """Check the typed code against this browser's recovery flow."""
    flow, row = checked_code(rt, tenant, pool, flows.RECOVERY, code=code, ref=ref)
    # Same browser: back to where its sign-in began (an app's authorization request).
    return _recover(rt, tenant, pool, flow, row, meta, return_to=flow.context.get("return_to"))


def checked_code(
    rt: Runtime, tenant: Tenant, pool: Pool, kind: str, *, code: str, ref: FlowRef
) -> tuple[Flow, Any]:
    """This browser's flow of this kind and its code row, when the typed code is right; every
    guess is counted (and committed) first."""
    with rt.read() as conn:
        flow = flow_refs.load_flow(conn, rt, tenant, pool, kind, ref)
    return flow, checked_flow_code(rt, flow, code)


def checked_flow_code(rt: Runtime, flow: Flow, code: str) -> Any:
    """The code row of a flow the caller has already tied to its request, when the typed code
    is right; every guess is counted (and committed) first."""
    with rt.read() as conn:
        row = code_store.for_flow(conn, flow.id)
    if flow.state != CODE_SENT:
        raise flows.FlowUsed("this flow is not waiting for a code")
    with rt.transaction() as conn:
        if row is None:
            _count_blind_attempt(conn, rt, flow)
        elif not code_store.count_attempt(conn, code_id=row.id, now=rt.now(), limit=MAX_ATTEMPTS):
            refuse_spent(rt, row)
    if row is None or not hmac.compare_digest(row.code_hash, _code_mac(rt, flow.id, code.strip())):
        raise RecoveryCodeInvalid("this code is not right")
    return row


def by_link(rt: Runtime, token: str) -> Any:
    """The code row of a mailed link's token, or None."""
    if not isinstance(token, str) or not 20 <= len(token) <= 100:
        return None
    with rt.read() as conn:
        return code_store.by_link(conn, _link_mac(rt, token))


def _count_blind_attempt(conn: Connection, rt: Runtime, flow: Flow) -> None:
    """Wrong guesses for an account that does not exist end the same way as for one that
    does, so the attempt limit reveals nothing either."""
    attempts = int(flow.context.get("attempts", 0))
    if attempts >= MAX_ATTEMPTS:
        raise RecoveryAttemptsExceeded("too many wrong codes; start again")
    flows.advance(
        conn,
        rt,
        flow,
        from_states=(CODE_SENT,),
        to_state=CODE_SENT,
        context={"attempts": attempts + 1},
    )


def refuse_spent(rt: Runtime, row: Any) -> None:
    if row.used_at is not None:
        raise flows.FlowUsed("this code was already used")
    if row.expires_at <= rt.now():
        raise RecoveryCodeExpired("this code has expired; start again")
    raise RecoveryAttemptsExceeded("too many wrong codes; start again")


def follow_link(
    rt: Runtime, tenant: Tenant, pool: Pool, *, token: str, meta: RequestMeta
) -> Recovered:
    """The mailed link: its token alone is the proof (it may be opened in another browser)."""
    if not isinstance(token, str) or not 20 <= len(token) <= 100:
        raise RecoveryCodeInvalid("this link is not valid")
    with rt.read() as conn:
        row = code_store.by_link(conn, _link_mac(rt, token))
        flow = flow_store.get(conn, flow_id=row.flow_id, tenant_id=tenant.id) if row else None
    if row is None or flow is None or flow.directory_id != pool.id or flow.kind != flows.RECOVERY:
        raise RecoveryCodeInvalid("this link is not valid")
    if row.used_at is not None:
        raise flows.FlowUsed("this link was already used")
    if row.expires_at <= rt.now():
        raise RecoveryCodeExpired("this link has expired; start again")
    return _recover(rt, tenant, pool, flow, row, meta, return_to=None)


def _recover(
    rt: Runtime,
    tenant: Tenant,
    pool: Pool,
    flow: Flow,
    row: Any,
    meta: RequestMeta,
    *,
    return_to: str | None,
) -> Recovered:
    """Use the code once, end the recovery flow, and open a registration flow for the user."""
    with rt.transaction() as conn:
        if not code_store.use(conn, code_id=row.id, now=rt.now()):
            refuse_spent(rt, row)
        flows.advance(
            conn,
            rt,
            flow,
            from_states=(CODE_SENT,),
            to_state=flows.COMPLETED,
            user_id=row.user_id,
        )
        account_recovery.prove_email(
            conn, rt, tenant_id=tenant.id, pool=pool, user_id=row.user_id, meta=meta
        )
        started = flows.start(
            conn,
            rt,
            tenant_id=tenant.id,
            directory_id=pool.id,
            kind=flows.REGISTRATION,
            user_id=row.user_id,
            context={"recovery": True, **({"return_to": return_to} if return_to else {})},
        )
        events.record(
            conn,
            rt,
            tenant_id=tenant.id,
            kind=POOL_RECOVERED,
            meta=meta,
            user_id=row.user_id,
            detail={"pool_id": pool.id},
        )
    return Recovered(started.flow, started.cookie, row.user_id)
