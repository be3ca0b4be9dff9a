"""A real local SMTP server (aiosmtpd) that keeps what it receives, for tests that read mail."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from email import message_from_bytes
from email.message import Message
from typing import Any

from aiosmtpd.controller import Controller

from tests.live_server import free_port


class Mailbox:
    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.lock = threading.Lock()
        self.port = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"

    def wait_for(self, recipient: str, count: int = 1, timeout: float = 15) -> Message:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                found = [m for m in self.messages if m["To"] == recipient]
            if len(found) >= count:
                return found[count - 1]
            time.sleep(0.1)
        raise AssertionError(f"no mail for {recipient} within {timeout} s")

    def smtp_env(self) -> dict[str, str]:
        """The settings that make a Latchkey server send its mail here."""
        return {
            "LATCHKEY_MAIL_MODE": "smtp",
            "LATCHKEY_SMTP_HOST": "127.0.0.1",
            "LATCHKEY_SMTP_PORT": str(self.port),
            "LATCHKEY_SMTP_SECURITY": "none",
            "LATCHKEY_MAIL_POLL_SECONDS": "0.2",
        }


@contextmanager
def running_mailbox() -> Iterator[Mailbox]:
    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=free_port())
    controller.start()
    box.port = controller.port
    try:
        yield box
    finally:
        controller.stop()
