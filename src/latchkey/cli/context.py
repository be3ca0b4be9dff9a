"""What every `latchkey` command shares: the --database-url option, on|off switches, the
runtime a command runs on (settings from the environment, the database migrated first), and
who makes its changes (the local account, so the event log names them)."""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from collections.abc import Callable
from dataclasses import replace

from sqlalchemy.exc import OperationalError

from latchkey import __version__, config, modes, preflight
from latchkey import runtime as runtimes
from latchkey.modes import Mode
from latchkey.runtime import RequestMeta, Runtime
from latchkey.services import operators, webhooks
from latchkey.services.operator_changes import Who
from latchkey.store import migrate

AddDatabaseOption = Callable[[argparse.ArgumentParser], None]


def database_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--database-url",
        help="SQLAlchemy URL (default: $LATCHKEY_DATABASE_URL or sqlite:///./latchkey.db)",
    )


def on_off(value: str) -> bool:
    if value not in ("on", "off"):
        raise argparse.ArgumentTypeError("use on or off")
    return value == "on"


def runtime(args: argparse.Namespace, mode: Mode = Mode.COMMAND) -> tuple[Runtime, config.Settings]:
    settings = config.from_env().with_overrides(
        database_url=getattr(args, "database_url", None),
        host=getattr(args, "host", None),
        port=getattr(args, "port", None),
    )
    preflight.check_sqlite_folder(settings.database_url)
    if mode is Mode.DEVELOPMENT:
        print(modes.development_notice(settings), flush=True)
    settings = replace(settings, master_key=modes.master_key(settings, mode))
    modes.require_public_url(settings, mode)
    settings = modes.mail(settings, mode)
    warning = modes.production_mail_warning(settings, mode)
    if warning:
        print(warning, file=sys.stderr, flush=True)
    rt = runtimes.build(settings)
    rt.on_event = webhooks.enqueue_for_event  # the CLI's events (an MDS refresh's) too
    try:
        migrate.upgrade(rt.engine)
    except OperationalError as exc:
        raise preflight.database_problem(settings.database_url, exc) from exc
    return rt, settings


def who() -> Who:
    """The operator behind this command: the account that typed it."""
    try:
        user = getpass.getuser()
    except (OSError, KeyError):  # no login name in the environment nor the password database
        user = f"uid {os.getuid()}"
    return Who(operators.local(user), RequestMeta(user_agent=f"latchkey-cli/{__version__}"))
