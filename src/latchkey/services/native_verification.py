"""Proving a native sign-up's e-mail address (issue 21 item 1), the way Auth0's native passkey
sign-up does it: in a pool that requires a verified address, the sign-up challenge mails a
one-time code (single use, 15 minutes, only its MAC stored, five guesses) and answers
`verification_required: ["email"]`; the passkey grant stores the account only with the right
code (`verification: {"email": code}`). An address nobody proved so never gets an account or
tokens, and a stranger who types someone else's address gets neither, nor blocks its owner.

The code's flow is bound to the auth_session (the challenge names it), not to a browser: the
hosted pages' verification endpoints cannot reach it, and the mail carries the code alone.
Pools where verification is `optional` or `off` keep the plain Auth0 exchange (no mail).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from latchkey import i18n
from latchkey.errors import InvalidRequest
from latchkey.event_kinds import POOL_EMAIL_VERIFIED
from latchkey.i18n import N_
from latchkey.models import Flow, Tenant
from latchkey.runtime import RequestMeta, Runtime
from latchkey.services import events
from latchkey.services.pools import Pool, email_verification, flows, recovery, recovery_limits
from latchkey.store import flows as flow_store
from latchkey.store import identifiers as identifier_store
from latchkey.store import recovery_codes as code_store

# What the challenge answer lists and the grant's `verification` object is keyed by.
EMAIL = "email"
_PARAGRAPHS = (
    N_("Confirm that this address is yours for your new %(pool)s account."),
    N_(
        "Your code is %(code)s. Type it in the app you are signing up in; it works once, for "
        "%(minutes)s minutes. If you did not sign up, ignore this mail: nobody can use this "
        "address without the code."
    ),
)


class VerificationRequired(InvalidRequest):
    """The sign-up needs the mailed code: missing or wrong, the same auth_session may try again
    (until its guesses or its time run out)."""

    code = "verification_required"

    def __init__(self, message: str, *, auth_session: str) -> None:
        super().__init__(message)
        self.auth_session = auth_session
        self.required = [EMAIL]


@dataclass(frozen=True)
class Proof:
    """A right code, not used yet: the sign-up's storing transaction uses it."""

    flow: Flow
    row: Any


def start(
    conn: Connection, rt: Runtime, tenant: Tenant, pool: Pool, *, email: str | None, sender: str
) -> str | None:
    """Before a native sign-up's challenge, in a pool that requires a verified address: its
    verification flow and, within the address's mail limit (recovery_limits), the mailed
    code. The flow's id, for the challenge to name; None when nothing is to be proved."""
    if pool.settings.email_verification != email_verification.REQUIRED or not email:
        return None
    started = flows.start(
        conn,
        rt,
        tenant_id=tenant.id,
        directory_id=pool.id,
        kind=flows.VERIFICATION,
        context={"attempts": 0, "native": True},
    )
    flow = flows.advance(
        conn, rt, started.flow, from_states=(flows.ACTIVE,), to_state=recovery.CODE_SENT
    )
    # Past the limit the answer is the same and no mail goes (a stranger cannot bomb an inbox).
    if recovery_limits.address_may_mail(conn, rt, email):
        email_verification.mail_confirmation(
            conn,
            rt,
            tenant,
            pool,
            flow,
            user_id=None,
            email=email,
            sender=sender,
            translator=i18n.translator(pool.settings.default_locale, pool.settings.messages),
            link_base="",  # no link: the hosted verification page needs a browser's flow
            paragraphs=_PARAGRAPHS,
        )
    return flow.id


def check(
    rt: Runtime,
    tenant: Tenant,
    directory_id: str,
    *,
    flow_id: str,
    auth_session: str,
    verification: Any,
) -> Proof:
    """The right code for this auth_session's flow; every guess is counted (and committed)
    first. Missing or wrong: VerificationRequired; used up, expired or out of guesses: the
    recovery codes' own errors (start again)."""
    code = verification.get(EMAIL) if isinstance(verification, Mapping) else None
    if not isinstance(code, str) or not 0 < len(code.strip()) <= 32:
        raise VerificationRequired(
            "type the code mailed to the address you signed up with (verification.email)",
            auth_session=auth_session,
        )
    with rt.read() as conn:
        flow = flow_store.get(conn, flow_id=flow_id, tenant_id=tenant.id)
    if flow is None or flow.kind != flows.VERIFICATION or flow.directory_id != directory_id:
        raise flows.FlowUsed("this sign-up's code is gone; start again")
    try:
        row = recovery.checked_flow_code(rt, flow, code)
    except recovery.RecoveryCodeInvalid as exc:
        raise VerificationRequired("this code is not right", auth_session=auth_session) from exc
    return Proof(flow, row)


def use(conn: Connection, rt: Runtime, proof: Proof) -> None:
    """In the sign-up's storing transaction, before anything is written: the code works once."""
    if not code_store.use(conn, code_id=proof.row.id, now=rt.now()):
        recovery.refuse_spent(rt, proof.row)


def proved(
    conn: Connection,
    rt: Runtime,
    tenant: Tenant,
    proof: Proof,
    *,
    user_id: str,
    meta: RequestMeta,
) -> None:
    """Once the account is stored, in the same transaction: its address is verified."""
    flows.advance(
        conn,
        rt,
        proof.flow,
        from_states=(recovery.CODE_SENT,),
        to_state=flows.COMPLETED,
        user_id=user_id,
    )
    identifier_store.mark_verified(conn, user_id=user_id, kind=EMAIL, when=rt.now())
    events.record(
        conn,
        rt,
        tenant_id=tenant.id,
        kind=POOL_EMAIL_VERIFIED,
        meta=meta,
        user_id=user_id,
        detail={"pool_id": proof.flow.directory_id, "flow_id": proof.flow.id, "native": True},
    )
