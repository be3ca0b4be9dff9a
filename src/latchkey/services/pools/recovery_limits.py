"""How many recovery mails an account and an address may be sent: at most MAILS per WINDOW
each (issue 21 item 5), so a stranger who knows an address cannot bomb its inbox. Past the
limit the request is answered as usual (the answer never tells whether a mail went) and no
mail is sent; the codes already mailed keep working.

Counted from what was stored (the account's recovery codes, the mails queued to the
address), in the request's own transaction, so only mails that really went count and the
check cannot drift from them; the account's row is locked first, so concurrent requests for
one account queue behind each other instead of both seeing room for one more.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Connection

from latchkey.runtime import Runtime
from latchkey.store import mail_outbox
from latchkey.store import recovery_codes as code_store
from latchkey.store import users as user_store

MAILS = 3
WINDOW = timedelta(minutes=15)


def may_mail(conn: Connection, rt: Runtime, *, tenant_id: str, user_id: str, email: str) -> bool:
    """Whether another recovery mail may go to this account and address now. Any mail queued
    to the address counts, whichever account or tenant it was for: the inbox is one."""
    user_store.lock(conn, tenant_id, user_id)
    since = rt.now() - WINDOW
    return code_store.issued_since(conn, user_id, since) < MAILS and address_may_mail(
        conn, rt, email
    )


def address_may_mail(conn: Connection, rt: Runtime, email: str) -> bool:
    """Whether another code may go to this address now (a native sign-up's, before any
    account exists: the address's count alone)."""
    return mail_outbox.queued_to_since(conn, email, rt.now() - WINDOW) < MAILS
