"""What `latchkey demo` and `serve --dev` say when they start: one banner, not uvicorn's start-up
lines once per server, and the command that enrols the first portal operator."""

from __future__ import annotations

import logging
import shutil
import sys
from pathlib import Path

# uvicorn logs these on "uvicorn.error" for every server it starts and stops; with several
# servers in one process the banner (and one line on stopping) replaces them.
_ROUTINE_LINES = (
    "Started server process",
    "Waiting for application startup",
    "Application startup complete",
    "Uvicorn running on",
    "Shutting down",
    "Waiting for application shutdown",
    "Application shutdown complete",
    "Finished server process",
)


class _RoutineLines(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith(_ROUTINE_LINES)


def quiet_uvicorn_routine() -> None:
    """Drop uvicorn's start and stop lines (warnings and errors stay). Call it after the
    servers' configs are made: each uvicorn.Config configures the logger anew."""
    logger = logging.getLogger("uvicorn.error")
    if not any(isinstance(f, _RoutineLines) for f in logger.filters):
        logger.addFilter(_RoutineLines())


def latchkey_command() -> str:
    """How to run `latchkey` from here: its name when that is the one on PATH, else its path
    (as after `make run`, which does not activate the virtualenv)."""
    running = Path(sys.argv[0]).resolve() if sys.argv and sys.argv[0] else None
    on_path = shutil.which("latchkey")
    if running is None or running.name != "latchkey":
        return "latchkey"
    if on_path and Path(on_path).resolve() == running:
        return "latchkey"
    try:
        return str(Path(sys.argv[0]).relative_to(Path.cwd()))
    except ValueError:
        return sys.argv[0]


def enrol_command() -> str:
    return (
        f"{latchkey_command()} admin create --name you@example.com"
        "   (prints a one-time link that enrols your passkey)"
    )


def dev_banner(url: str) -> str:
    """What `serve --dev` says before it listens: where the service and the portal are, and how
    the first operator gets in."""
    return "\n".join(
        [
            f"Latchkey is running on {url}/   (links to all)",
            f"  portal        {url}/portal   (operators: tenants, apps, events)",
            f"  first operator: {enrol_command()}",
        ]
    )
