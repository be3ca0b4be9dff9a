"""Queueing mail with its bodies sealed (AES-GCM under the master key, bound to the row id):
a recovery mail's code must not sit in the database in clear while the mail waits to be sent.
The worker opens them just before sending; once sent, the bodies are dropped."""

from __future__ import annotations

from base64 import urlsafe_b64decode, urlsafe_b64encode
from dataclasses import replace

from sqlalchemy import Connection

from latchkey.ids import new_id
from latchkey.mail.message import OutgoingMail
from latchkey.runtime import Runtime
from latchkey.services import sealing
from latchkey.store import mail_outbox
from latchkey.store.mail_outbox import Claimed

_PREFIX = "sealed:v1:"


def _seal(rt: Runtime, mail_id: str, part: str, text: str) -> str:
    sealed = sealing.seal(rt.master_key, text.encode(), context=f"mail {mail_id} {part}")
    return _PREFIX + urlsafe_b64encode(sealed).decode()


def _open(master_key: bytes | None, mail_id: str, part: str, stored: str) -> str:
    if not stored.startswith(_PREFIX):
        raise ValueError(f"mail {mail_id}: its {part} is not sealed")
    sealed = urlsafe_b64decode(stored[len(_PREFIX) :])
    return sealing.unseal(master_key, sealed, context=f"mail {mail_id} {part}").decode()


def queue(conn: Connection, rt: Runtime, mail: OutgoingMail, *, tenant_id: str | None) -> str:
    """Queue in the caller's transaction (sent only if it commits); the outbox id."""
    mail_id = new_id()
    sealed = replace(
        mail,
        text_body=_seal(rt, mail_id, "text", mail.text_body),
        html_body=_seal(rt, mail_id, "html", mail.html_body) if mail.html_body else None,
    )
    return mail_outbox.enqueue(conn, rt, sealed, tenant_id=tenant_id, mail_id=mail_id)


def opened(rt: Runtime, item: Claimed) -> Claimed:
    """The claimed message with its bodies readable again, for sending."""
    mail = item.mail
    return replace(
        item,
        mail=replace(
            mail,
            text_body=_open(rt.master_key, item.id, "text", mail.text_body),
            html_body=(
                _open(rt.master_key, item.id, "html", mail.html_body) if mail.html_body else None
            ),
        ),
    )


def text_of(master_key: bytes | None, mail_id: str, stored: str) -> str:
    """A queued mail's text body, opened (for an operator's tools and tests)."""
    return _open(master_key, mail_id, "text", stored)
