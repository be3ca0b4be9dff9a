"""`latchkey directory create|update|list`: a tenant's user directories (the identifiers
users sign up with)."""

from __future__ import annotations

import argparse
import json
from typing import Any

from latchkey.cli.context import database_option
from latchkey.cli.output import print_fields
from latchkey.errors import ConfigError
from latchkey.models import Directory
from latchkey.runtime import Runtime
from latchkey.services import directories, operator_changes
from latchkey.services.operator_changes import Who


def add_parser(commands: Any) -> None:
    directory = commands.add_parser("directory", help="manage a tenant's user directories")
    dir_actions = directory.add_subparsers(dest="action", required=True)
    for name in ("create", "update"):
        sub = dir_actions.add_parser(name, help=f"{name} a directory")
        sub.add_argument("tenant_id")
        sub.add_argument("name")
        sub.add_argument(
            "--identifier",
            action="append",
            dest="identifiers",
            required=True,
            metavar="KIND=required|optional",
            help="email, phone_number or username (repeat)",
        )
        sub.add_argument("--json", action="store_true")
        database_option(sub)
    dir_list = dir_actions.add_parser("list", help="list a tenant's directories")
    dir_list.add_argument("tenant_id")
    dir_list.add_argument("--json", action="store_true")
    database_option(dir_list)


def directory_dict(directory: Directory) -> dict[str, Any]:
    return {
        "name": directory.name,
        "default": directory.is_default,
        "identifiers": directory.identifiers,
        "created_at": directory.created_at.isoformat(),
    }


def _schema(pairs: list[str]) -> dict[str, str]:
    schema: dict[str, str] = {}
    for pair in pairs:
        kind, sep, requirement = pair.partition("=")
        if not sep:
            raise ConfigError(f"--identifier {pair!r}: write KIND=required or KIND=optional")
        schema[kind] = requirement
    return schema


def run(rt: Runtime, who: Who, args: argparse.Namespace) -> None:
    if args.action == "list":
        found = [directory_dict(d) for d in directories.list_for(rt, args.tenant_id)]
        if args.json:
            print(json.dumps(found, indent=2))
        for d in [] if args.json else found:
            print(f"{d['name']:<20} {'default' if d['default'] else '':<8} {d['identifiers']}")
        return
    if args.action == "create":
        change = operator_changes.create_directory
    else:
        change = operator_changes.update_directory
    directory = change(rt, who, args.tenant_id, args.name, _schema(args.identifiers))
    print_fields(directory_dict(directory), as_json=args.json)
