"""`latchkey pool ...`: identity-pool settings (the hosted pages' behaviour and branding) and
passwords for pools migrating users off them."""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from typing import Any

from latchkey import i18n
from latchkey.cli.context import database_option, on_off
from latchkey.errors import InvalidRequest
from latchkey.runtime import Runtime
from latchkey.services import operator_changes, pools, tenants
from latchkey.services.operator_changes import Who
from latchkey.services.pools import identifier_lookup

_SWITCHES = (
    "self_registration",
    "bot_check",
    "password",
    "identifier_first",
    "recovery_keeps_passkeys",
)


def add_parser(commands: Any) -> None:
    pool = commands.add_parser("pool", help="identity-pool settings and passwords")
    actions = pool.add_subparsers(dest="action", required=True)
    show = actions.add_parser("show", help="print a pool's settings")
    configure = actions.add_parser("configure", help="change a pool's settings")
    password = actions.add_parser("set-password", help="set a user's password (read from stdin)")
    message = actions.add_parser(
        "set-message",
        help="the pool's own wording of a hosted-page or mail message in one language",
        description="The message is the English text as the catalog has it "
        "(src/latchkey/i18n/messages.pot); the pool's wording is shown instead of the "
        "catalog's translation. Without TEXT (or with --reset) the catalog's is used again.",
    )
    for sub in (show, configure, password, message):
        sub.add_argument("tenant_id")
        sub.add_argument("pool", help="the pool's id or name (a directory)")
        database_option(sub)
    configure.add_argument("--display-name")
    for name in _SWITCHES:
        configure.add_argument(f"--{name.replace('_', '-')}", type=on_off, metavar="on|off")
    configure.add_argument("--max-passkeys", type=int)
    configure.add_argument(
        "--bot-check-complexity",
        type=int,
        help="the ALTCHA proof of work's upper bound (default 50000; a browser tries half)",
    )
    configure.add_argument("--brand-name")
    configure.add_argument("--logo-url")
    configure.add_argument("--primary-color", metavar="#RRGGBB")
    configure.add_argument("--email-sender")
    configure.add_argument("--email-verification", choices=pools.EMAIL_VERIFICATION)
    configure.add_argument(
        "--default-locale",
        choices=i18n.LOCALES,
        help="the pages' language when neither the user nor the browser names a shipped one",
    )
    password.add_argument("identifier", help="the user's e-mail, phone number or username")
    message.add_argument("locale", choices=i18n.LOCALES)
    message.add_argument("message", help="the catalog's message id (its English text)")
    message.add_argument(
        "text", nargs="?", help="the pool's wording; left out: back to the catalog"
    )


def _changes(args: argparse.Namespace) -> dict[str, Any]:
    changes: dict[str, Any] = {
        name: getattr(args, name)
        for name in (
            *_SWITCHES,
            "display_name",
            "max_passkeys",
            "email_sender",
            "email_verification",
            "bot_check_complexity",
            "default_locale",
        )
        if getattr(args, name) is not None
    }
    branding = {
        key: getattr(args, arg)
        for key, arg in (
            ("name", "brand_name"),
            ("logo_url", "logo_url"),
            ("primary_color", "primary_color"),
        )
        if getattr(args, arg) is not None
    }
    if branding:
        changes["branding"] = branding
    return changes


def run(rt: Runtime, who: Who, args: argparse.Namespace) -> None:
    tenant = tenants.get(rt, args.tenant_id)
    if args.action == "configure":
        found = operator_changes.configure_pool(rt, who, tenant.id, args.pool, _changes(args))
    elif args.action == "set-message":
        found = operator_changes.set_pool_message(
            rt, who, tenant.id, args.pool, args.locale, args.message, args.text
        )
    else:
        found = pools.get(rt, tenant.id, args.pool)
    if args.action == "set-password":
        _set_password(rt, who, tenant, found, args.identifier)
        return
    print(
        json.dumps(
            {"id": found.id, "name": found.directory.name, **found.settings.to_json()}, indent=2
        )
    )


def _set_password(rt: Runtime, who: Who, tenant: Any, pool: pools.Pool, identifier: str) -> None:
    password = (
        getpass.getpass("New password: ") if sys.stdin.isatty() else sys.stdin.readline()
    ).rstrip("\n")
    with rt.read() as conn:
        user_id = identifier_lookup.find_user(conn, pool, identifier)
    if user_id is None:
        raise InvalidRequest(f"no user {identifier!r} in pool {pool.directory.name!r}")
    operator_changes.set_password(rt, who, tenant.id, pool, user_id, password)
    print(f"password set for {identifier}")
