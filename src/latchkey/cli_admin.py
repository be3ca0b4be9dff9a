"""`latchkey admin token ...` (operator API tokens for the management API) and `latchkey events
prune|retention` (the event log's retention), over the services the management API uses."""

from __future__ import annotations

import argparse
import json
from typing import Any

from latchkey.services import operators, retention
from latchkey.services.operators import OperatorToken
from latchkey.services.runtime import Runtime


def add_parsers(commands: Any, database_option: Any) -> None:
    admin = commands.add_parser("admin", help="operators of the management API (/admin/v1)")
    token = admin.add_subparsers(dest="area", required=True).add_parser(
        "token", help="operator API tokens"
    )
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

    log = commands.add_parser("events", help="the event log's retention")
    log_actions = log.add_subparsers(dest="action", required=True)
    prune = log_actions.add_parser("prune", help="delete events past their tenant's retention")
    prune.add_argument("--tenant", dest="tenant_id", help="only this tenant")
    keep = log_actions.add_parser("retention", help="set how long a tenant keeps its events")
    keep.add_argument("tenant_id")
    days = keep.add_mutually_exclusive_group(required=True)
    days.add_argument("--days", type=int, help="keep events this many days")
    days.add_argument("--forever", action="store_true", help="never prune this tenant's events")
    for sub in (prune, keep):
        database_option(sub)


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


def run_admin(rt: Runtime, args: argparse.Namespace) -> None:
    if args.action == "create":
        token, secret = operators.create_token(rt, name=args.name, tenant_id=args.tenant_id)
        _show(token, as_json=args.json, secret=secret)
    elif args.action == "list":
        found = operators.list_tokens(rt, tenant_id=args.tenant_id)
        if args.json:
            print(json.dumps([token_dict(t) for t in found], indent=2))
        for t in [] if args.json else found:
            state = "revoked" if t.revoked_at else "active"
            print(f"{t.id}  {t.prefix}...  {state:<7}  {t.tenant_id or 'global':<36}  {t.name}")
    else:
        _show(operators.revoke_token(rt, args.token_id), as_json=args.json)


def run_events(rt: Runtime, args: argparse.Namespace) -> None:
    if args.action == "retention":
        tenant = retention.set_retention(rt, args.tenant_id, None if args.forever else args.days)
        kept = tenant.event_retention_days
        print(f"tenant {tenant.id} keeps events {f'{kept} days' if kept else 'for ever'}")
        return
    pruned = retention.prune(rt, tenant_id=args.tenant_id)
    for tenant_id, count in pruned.items():
        print(f"{tenant_id}: {count} events pruned")
    print(f"pruned {sum(pruned.values())} events in {len(pruned)} tenants with a retention")
