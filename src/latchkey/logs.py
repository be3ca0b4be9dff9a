"""Logging for `latchkey serve` and `demo`: uvicorn configures only its own loggers, so
Latchkey's (errors with tracebacks, the mail and webhook workers) get a stderr handler in the
same format, at LATCHKEY_LOG_LEVEL. Nothing here logs request bodies, headers or secrets."""

from __future__ import annotations

import logging


def configure(level: str) -> None:
    root = logging.getLogger("latchkey")
    if not root.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(levelname)s:     %(name)s %(message)s"))
        root.addHandler(handler)
    root.setLevel(level.upper())
