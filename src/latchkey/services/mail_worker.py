"""The background worker that drains the mail outbox.

Each message is claimed (leased) in one transaction, sent with no transaction open (SMTP can
take seconds; on SQLite an open transaction would block every writer), then marked sent or
failed in another. A crash anywhere in between leaves the row leased: another worker, or this
one after a restart, takes it over when the lease ends. Several processes may each run a
worker against one database.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import cast

from latchkey.config import Settings
from latchkey.errors import LatchkeyError
from latchkey.mail.message import compose
from latchkey.mail.transports import (
    ConsoleTransport,
    DeliveryError,
    Security,
    SMTPTransport,
    Transport,
    ensure_console_output,
)
from latchkey.runtime import Runtime
from latchkey.services import mail_queue
from latchkey.services.worker_loop import LoopedWorker, WorkerLoop
from latchkey.store import mail_outbox
from latchkey.store.mail_outbox import Claimed

logger = logging.getLogger(__name__)

# Longer than a slow SMTP exchange (several socket operations of up to `timeout` each), so a
# message still being sent is not taken over by another worker.
DEFAULT_LEASE_SECONDS = 120.0


@dataclass(frozen=True)
class Drained:
    """What one pass over the outbox did."""

    sent: int = 0
    failed: int = 0


class MailWorker(LoopedWorker):
    """Drains the outbox from a background thread (start/stop) or on demand (drain_once)."""

    def __init__(
        self,
        rt: Runtime,
        transport: Transport,
        *,
        poll_seconds: float = 5.0,
        lease_seconds: float = DEFAULT_LEASE_SECONDS,
    ) -> None:
        self.rt = rt
        self.transport = transport
        self.poll_seconds = poll_seconds
        self.lease_seconds = lease_seconds
        self._loop = WorkerLoop(
            "latchkey-mail",
            lambda: self.drain_once(),
            every=poll_seconds,
            log=logger,
            what="mail outbox pass",
        )

    def drain_once(self) -> Drained:
        """Send every message due now, one at a time; stops early (or does nothing) once stop()
        has been called."""
        sent = failed = 0
        while not self._loop.stopping:
            with self.rt.transaction() as conn:
                claimed = mail_outbox.claim_due(conn, self.rt.now(), self.lease_seconds, limit=1)
            if not claimed:
                break
            if self._deliver(claimed[0]):
                sent += 1
            else:
                failed += 1
        return Drained(sent=sent, failed=failed)

    def _deliver(self, item: Claimed) -> bool:
        try:
            readable = mail_queue.opened(self.rt, item)
        except (ValueError, LatchkeyError):
            # Not sealed, or sealed under another master key: no retry will open it.
            self._failed(item, "the body cannot be opened with this master key", give_up=True)
            return False
        message = compose(readable.mail, outbox_id=item.id, queued_at=item.created_at)
        try:
            self.transport.send(message)
        except DeliveryError as exc:
            self._failed(item, exc.description, give_up=exc.permanent)
            return False
        except Exception as exc:  # a bug in a transport must not stop the worker
            self._failed(item, f"{type(exc).__name__} in transport", give_up=False)
            return False
        with self.rt.transaction() as conn:
            mail_outbox.mark_sent(conn, item.id, self.rt.now())
        logger.info("mail %s sent (attempt %d)", item.id, item.attempts)
        return True

    def _failed(self, item: Claimed, error: str, *, give_up: bool) -> None:
        retry_at = self.rt.now() + mail_outbox.retry_delay(item.attempts)
        with self.rt.transaction() as conn:
            mail_outbox.mark_failed(
                conn, item.id, error, retry_at, leased_until=item.leased_until, give_up=give_up
            )
        last = give_up or item.attempts >= mail_outbox.MAX_ATTEMPTS
        # The error text comes from the SMTP server or the socket; it names no secret (the
        # transport redacts the password) and the message's subject and body are not logged.
        logger.warning(
            "mail %s: attempt %d failed%s: %s",
            item.id,
            item.attempts,
            ", giving up" if last else f", retrying at {retry_at.isoformat()}",
            error,
        )


def build_worker(rt: Runtime, settings: Settings) -> MailWorker | None:
    """The worker for LATCHKEY_MAIL_MODE: None when mail is off (the outbox then only fills)."""
    transport: Transport
    if settings.mail_mode == "off":
        return None
    if settings.mail_mode == "console":
        ensure_console_output()
        transport = ConsoleTransport(show_content=settings.console_mail_content)
    else:
        transport = SMTPTransport(
            host=settings.smtp_host or "",
            port=settings.smtp_port,
            security=cast(Security, settings.smtp_security),  # one of them: Settings.checked()
            username=settings.smtp_username,
            password=settings.smtp_password,
        )
    return MailWorker(rt, transport, poll_seconds=settings.mail_poll_seconds)
