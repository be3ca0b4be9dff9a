"""Where composed messages go: an SMTP server, or the log (development).

A transport raises DeliveryError with a description safe to store and log (no password); the
worker decides when to retry.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Literal, Protocol

logger = logging.getLogger(__name__)

Security = Literal["starttls", "tls", "none"]


class DeliveryError(Exception):
    """A send failed; `permanent` when retrying cannot help (the recipient was refused)."""

    def __init__(self, description: str, *, permanent: bool = False) -> None:
        super().__init__(description)
        self.description = description
        self.permanent = permanent


class Transport(Protocol):
    def send(self, message: EmailMessage) -> None:
        """Deliver one message or raise DeliveryError."""


@dataclass(frozen=True)
class ConsoleTransport:
    """Development: the message, body included, goes to the log instead of a mailbox (that is
    how a developer reads a recovery code). Only the message is logged, no settings. Chosen in
    production (show_content False), only the Message-ID: the recipient is personal data and
    the subject and body carry the codes."""

    level: int = logging.INFO
    show_content: bool = True

    def send(self, message: EmailMessage) -> None:
        if not self.show_content:
            logger.log(
                self.level,
                "mail (console mode, not sent; content withheld in production) Message-ID: %s",
                message["Message-ID"],
            )
            return
        text = message.get_body(("plain",))
        body = text.get_content() if isinstance(text, EmailMessage) else ""
        logger.log(
            self.level,
            "mail (console mode, not sent)\nMessage-ID: %s\nFrom: %s\nTo: %s\nSubject: %s\n\n%s",
            message["Message-ID"],
            message["From"],
            message["To"],
            message["Subject"],
            body,
        )


def ensure_console_output() -> None:
    """Make the console transport's messages visible when nothing configured logging (uvicorn
    configures only its own loggers, and Python's fallback shows warnings only)."""
    if logger.hasHandlers():
        return
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(levelname)s:     %(name)s %(message)s"))
    logger.addHandler(handler)
    if logger.getEffectiveLevel() > logging.INFO:
        logger.setLevel(logging.INFO)


@dataclass(frozen=True)
class SMTPTransport:
    """One SMTP connection per message, TLS verified against the system's CAs by default.

    STARTTLS is required when asked for: a server that does not offer it is an error, never a
    silent fall back to plain text.
    """

    host: str
    port: int = 587
    security: Security = "starttls"
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    timeout: float = 10.0
    # For a private CA (and the tests' self-signed certificate); None: the system's trust store.
    ssl_context: ssl.SSLContext | None = field(default=None, repr=False, compare=False)

    def send(self, message: EmailMessage) -> None:
        try:
            smtp = self._connect()
        except (smtplib.SMTPException, OSError) as exc:
            raise DeliveryError(self._describe(exc)) from None
        try:
            if self.username:
                smtp.login(self.username, self.password or "")
            smtp.send_message(message)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            raise DeliveryError(self._describe(exc), permanent=min(codes) >= 500) from None
        except (smtplib.SMTPException, OSError) as exc:
            raise DeliveryError(self._describe(exc)) from None
        finally:
            _quit(smtp)

    def _connect(self) -> smtplib.SMTP:
        context = self.ssl_context or ssl.create_default_context()
        if self.security == "tls":
            return smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
        smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        if self.security == "starttls":
            try:
                smtp.starttls(context=context)  # sends EHLO first, and again after
            except BaseException:
                _quit(smtp)
                raise
        return smtp

    def _describe(self, exc: BaseException) -> str:
        # `from None` above and this text keep the password out of stored errors and tracebacks;
        # smtplib does not put it in its messages, this makes sure.
        text = f"{type(exc).__name__}: {exc}"
        if self.password:
            text = text.replace(self.password, "***")
        return text


def _quit(smtp: smtplib.SMTP) -> None:
    """Say goodbye; a failure here must not turn a delivered message into a retried one."""
    try:
        smtp.quit()
    except (smtplib.SMTPException, OSError):
        smtp.close()
