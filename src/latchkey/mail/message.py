"""An e-mail to send, and its MIME form.

The Message-ID and Date come from the outbox row, not from the moment of sending: a retried
message is the same message, so a receiver (or a person) can recognise a duplicate delivery.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr

# The outbox columns' sizes (store/tables.py: mail_outbox).
MAX_ADDRESS = 320
MAX_SUBJECT = 255


@dataclass(frozen=True)
class OutgoingMail:
    sender: str
    recipient: str
    subject: str
    text_body: str
    html_body: str | None = None

    def __post_init__(self) -> None:
        # Checked here, in the caller's transaction, so a bad mail fails the request that made it
        # instead of failing every delivery attempt later. Values are not echoed: the subject of
        # a recovery mail carries its code.
        for name in ("sender", "recipient"):
            value = getattr(self, name)
            if len(value) > MAX_ADDRESS or "@" not in parseaddr(value)[1]:
                raise ValueError(f"OutgoingMail.{name} is not an e-mail address")
        if len(self.subject) > MAX_SUBJECT:
            raise ValueError(f"OutgoingMail.subject is longer than {MAX_SUBJECT} characters")
        for name in ("sender", "recipient", "subject"):
            if any(ch in getattr(self, name) for ch in "\r\n"):
                raise ValueError(f"OutgoingMail.{name} contains a line break")


def message_id(outbox_id: str, sender: str) -> str:
    """The stable Message-ID of an outbox row (RFC 5322 §3.6.4)."""
    domain = parseaddr(sender)[1].rpartition("@")[2] or "localhost"
    return f"<latchkey.{outbox_id}@{domain}>"


def compose(mail: OutgoingMail, *, outbox_id: str, queued_at: datetime) -> EmailMessage:
    """The MIME message: text/plain, or multipart/alternative when there is an HTML body."""
    msg = EmailMessage()
    msg["From"] = mail.sender
    msg["To"] = mail.recipient
    msg["Subject"] = mail.subject
    msg["Date"] = format_datetime(queued_at)
    msg["Message-ID"] = message_id(outbox_id, mail.sender)
    msg.set_content(mail.text_body)
    if mail.html_body is not None:
        msg.add_alternative(mail.html_body, subtype="html")
    return msg
