"""The mail outbox in tests: the queued mails with their bodies opened, and the one-time code
and link a code mail carries."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import select

from latchkey.runtime import Runtime
from latchkey.services.mail_queue import text_of
from latchkey.store.tables import mail_outbox


@dataclass(frozen=True)
class Mail:
    recipient: str
    sender: str
    subject: str
    stored_text: str
    text_body: str


def mails(rt: Runtime) -> list[Mail]:
    """The queued mails, their bodies opened (they are sealed at rest)."""
    with rt.engine.connect() as conn:
        rows = conn.execute(select(mail_outbox).order_by(mail_outbox.c.created_at))
        return [
            Mail(
                r.recipient,
                r.sender,
                r.subject,
                r.text_body,
                text_of(rt.master_key, r.id, r.text_body),
            )
            for r in rows
        ]


def code_and_link(mail: Mail) -> tuple[str, str]:
    code = re.search(r"Your code is (\d{6})", mail.text_body)
    link = re.search(r"\?token=([A-Za-z0-9_-]+)", mail.text_body)
    assert code
    assert link
    return code.group(1), link.group(1)
