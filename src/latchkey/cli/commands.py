"""The `latchkey` command: its parser, one sub-command group a module, and which group runs."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from latchkey import __version__
from latchkey.cli import (
    admin,
    apps,
    directories,
    events,
    keys,
    mds,
    pools,
    server,
    tenants,
    webhooks,
)
from latchkey.cli.context import runtime, who
from latchkey.errors import LatchkeyError

# The groups that run on the database, by command name (each module: add_parser and run).
GROUPS = {
    "app": apps,
    "keys": keys,
    "directory": directories,
    "pool": pools,
    "webhook": webhooks,
    "admin": admin,
    "events": events,
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="latchkey", description="Self-hosted passkey service")
    parser.add_argument("--version", action="version", version=f"latchkey {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    server.add_parsers(commands)
    for group in GROUPS.values():
        group.add_parser(commands)
    mds.add_parser(commands)
    tenants.add_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "serve":
            server.run_serve(args)
        elif args.command == "demo":
            server.run_demo(args)
        elif args.command == "migrate":
            server.run_migrate(args)
        elif args.command == "mds":
            rt, settings = runtime(args)
            mds.run(rt, args, sender=settings.mail_from)
        elif args.command in GROUPS:
            GROUPS[args.command].run(runtime(args)[0], who(), args)
        else:
            tenants.run(runtime(args)[0], who(), args)
    except LatchkeyError as error:
        print(f"latchkey: error: {error.message}", file=sys.stderr)
        return 2
    return 0
