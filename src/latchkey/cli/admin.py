"""`latchkey admin token ...` (operator API tokens for the management API) and `latchkey admin
create|link|list` (portal operators and their one-time enrolment links), over the services the
management API uses."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from typing import Any
from urllib.parse import urlsplit

from latchkey import config
from latchkey.cli.context import database_option
from latchkey.runtime import Runtime
from latchkey.services import operator_changes, operators
from latchkey.services.operator_changes import Who
from latchkey.services.operators import OperatorToken, accounts


def add_parser(commands: Any) -> None:
    admin = commands.add_parser("admin", help="operators of the management API (/admin/v1)")
    areas = admin.add_subparsers(dest="area", required=True)
    _add_operator_parsers(areas)
    token = areas.add_parser("token", help="operator API tokens")
    actions = token.add_subparsers(dest="action", required=True)
    create = actions.add_parser("create", help="make a token and print its secret once")
    create.add_argument("--tenant", dest="tenant_id", help="scope it to this tenant (else global)")
    create.add_argument("--name", default="operator", help="what the token is for")
    listing = actions.add_parser("list", help="list tokens (never their secrets)")
    listing.add_argument("--tenant", dest="tenant_id", help="only this tenant's tokens")
    revoke = actions.add_parser("revoke", help="revoke a token at once")
    revoke.add_argument("token_id")
    for sub in (create, listing, revoke):
        sub.add_argument("--json", action="store_true", help="print JSON")
        database_option(sub)


def _add_operator_parsers(areas: Any) -> None:
    create = areas.add_parser(
        "create", help="make a portal operator and print a one-time enrolment link"
    )
    create.add_argument("--name", required=True, help="who the operator is (e.g. an e-mail)")
    create.add_argument(
        "--tenant", dest="tenant_id", help="scope them to this tenant (else global)"
    )
    link = areas.add_parser("link", help="a new one-time enrolment link (another passkey)")
    link.add_argument("operator_id")
    for sub in (create, link):
        sub.add_argument(
            "--hours", type=int, default=accounts.DEFAULT_LINK_HOURS, help="link lifetime"
        )
        sub.add_argument(
            "--url",
            help="the address the portal is reached at, as the server's LATCHKEY_PUBLIC_URL"
            " (default: $LATCHKEY_PUBLIC_URL, else http://localhost:<port>)",
        )
    listing = areas.add_parser("list", help="list portal operators")
    for sub in (create, link, listing):
        sub.add_argument("--json", action="store_true", help="print JSON")
        database_option(sub)


def _show_link(link: accounts.EnrolmentLink, *, as_json: bool) -> None:
    data = {
        "operator_id": link.operator.id,
        "name": link.operator.name,
        "tenant_id": link.operator.tenant_id,
        "enrolment_url": link.url,
        "expires_at": link.expires_at.isoformat(),
    }
    if as_json:
        print(json.dumps(data, indent=2))
        return
    scope = f"tenant {link.operator.tenant_id}" if link.operator.tenant_id else "every tenant"
    print(f"operator {link.operator.name} ({link.operator.id}), {scope}")
    print(f"Open this link once, before {data['expires_at']}, to register a passkey:")
    print(link.url)


def _on_public_url(rt: Runtime, args: argparse.Namespace) -> Runtime:
    """The runtime whose public URL the link is made on: --url, else LATCHKEY_PUBLIC_URL."""
    url = config.public_url(getattr(args, "url", None), "--url")
    if url:
        return replace(rt, public_url=url)
    if urlsplit(rt.public_url).hostname in config.LOOPBACK_HOSTS:
        print(
            f"latchkey: note: this link is on {rt.public_url}; for operators elsewhere set"
            " LATCHKEY_PUBLIC_URL (or --url) to the address the portal is reached at",
            file=sys.stderr,
        )
    return rt


def run_operators(rt: Runtime, who: Who, args: argparse.Namespace) -> None:
    if args.area in ("create", "link"):
        rt = _on_public_url(rt, args)
    if args.area == "create":
        made = operator_changes.create_operator(
            rt, who, name=args.name, tenant_id=args.tenant_id, hours=args.hours
        )
        _show_link(made, as_json=args.json)
    elif args.area == "link":
        link = operator_changes.enrolment_link(rt, who, args.operator_id, hours=args.hours)
        _show_link(link, as_json=args.json)
    else:
        found = accounts.listed(rt)
        rows = [
            {"id": o.id, "name": o.name, "tenant_id": o.tenant_id, "disabled": bool(o.disabled_at)}
            for o in found
        ]
        if args.json:
            print(json.dumps(rows, indent=2))
        for row in [] if args.json else rows:
            print(f"{row['id']}  {row['tenant_id'] or 'global':<36}  {row['name']}")


def token_dict(token: OperatorToken) -> dict[str, Any]:
    return {
        "id": token.id,
        "name": token.name,
        "tenant_id": token.tenant_id,
        "prefix": token.prefix,
        "created_by": token.created_by,
        "created_at": token.created_at.isoformat(),
        "revoked_at": token.revoked_at.isoformat() if token.revoked_at else None,
    }


def _show(token: OperatorToken, *, as_json: bool, secret: str | None = None) -> None:
    data = token_dict(token) | ({"secret": secret} if secret else {})
    if as_json:
        print(json.dumps(data, indent=2))
        return
    for key, value in data.items():
        print(f"{key:>11}: {value if value is not None else '-'}")
    if secret:
        print("Keep the token now: Latchkey stores only its hash and cannot show it again.")


def run(rt: Runtime, who: Who, args: argparse.Namespace) -> None:
    if args.area != "token":
        run_operators(rt, who, args)
    elif args.action == "create":
        token, secret = operator_changes.create_token(
            rt, who, name=args.name, tenant_id=args.tenant_id
        )
        _show(token, as_json=args.json, secret=secret)
    elif args.action == "list":
        found = operators.list_tokens(rt, tenant_id=args.tenant_id)
        if args.json:
            print(json.dumps([token_dict(t) for t in found], indent=2))
        for t in [] if args.json else found:
            state = "revoked" if t.revoked_at else "active"
            print(f"{t.id}  {t.prefix}...  {state:<7}  {t.tenant_id or 'global':<36}  {t.name}")
    else:
        _show(operator_changes.revoke_token(rt, who, args.token_id), as_json=args.json)
