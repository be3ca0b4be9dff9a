"""`latchkey webhook ...`: a tenant's webhook endpoints, their delivery log and redelivery."""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from datetime import timedelta
from typing import Any

from latchkey.cli.context import database_option, on_off
from latchkey.event_kinds import AUDIT_WILDCARD, KINDS
from latchkey.runtime import Runtime
from latchkey.services import operator_changes, tenants, webhooks
from latchkey.services.operator_changes import Who
from latchkey.webhooks.models import STATES, Endpoint


def _endpoint_options(parser: argparse.ArgumentParser, *, creating: bool) -> None:
    parser.add_argument("--url", required=creating, help="https:// (http://localhost to develop)")
    parser.add_argument(
        "--event",
        action="append",
        dest="events",
        metavar="TYPE",
        help="an event type or 'namespace.*' (repeat); none: every event",
    )
    parser.add_argument("--description")
    parser.add_argument("--enabled", type=on_off, metavar="on|off")


def _secret_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--secret-stdin",
        action="store_true",
        help="read the signing secret from stdin (e.g. the tenant's secret key) instead of"
        " making one",
    )


def add_parser(commands: Any) -> None:
    hook = commands.add_parser("webhook", help="a tenant's webhook endpoints and deliveries")
    actions = hook.add_subparsers(dest="action", required=True)
    create = actions.add_parser("create", help="add an endpoint and print its secret once")
    listing = actions.add_parser("list", help="list the tenant's endpoints")
    update = actions.add_parser("update", help="change an endpoint")
    delete = actions.add_parser("delete", help="delete an endpoint and its delivery log")
    rotate = actions.add_parser("rotate-secret", help="a new secret, printed once")
    test = actions.add_parser("test", help="send a webhook.test event to an endpoint")
    log = actions.add_parser("deliveries", help="the delivery log, newest first")
    attempts = actions.add_parser("attempts", help="every attempt of one delivery")
    again = actions.add_parser("redeliver", help="send a delivery again")
    kinds = actions.add_parser("types", help="the event types an endpoint may ask for")
    for sub in (create, listing, update, delete, rotate, test, log, attempts, again):
        sub.add_argument("tenant_id")
        sub.add_argument("--json", action="store_true", help="print JSON")
    for sub in (update, delete, rotate, test):
        sub.add_argument("endpoint_id")
    for sub in (attempts, again):
        sub.add_argument("delivery_id")
    _endpoint_options(create, creating=True)
    _secret_option(create)
    _endpoint_options(update, creating=False)
    update.add_argument("--all-events", action="store_true", help="clear the event filter")
    rotate.add_argument(
        "--keep-previous-hours",
        type=float,
        default=webhooks.ROTATION_GRACE.total_seconds() / 3600,
        help="the old secret also signs for this long (default 24; 0: stop at once)",
    )
    _secret_option(rotate)
    log.add_argument("--endpoint", dest="endpoint_id")
    log.add_argument("--event", dest="event_id")
    log.add_argument("--state", choices=STATES)
    log.add_argument("--limit", type=int, default=50)
    for sub in (create, listing, update, delete, rotate, test, log, attempts, again, kinds):
        database_option(sub)


def _read_secret(args: argparse.Namespace) -> str | None:
    if not args.secret_stdin:
        return None
    if sys.stdin.isatty():
        return getpass.getpass("Webhook secret: ")
    return sys.stdin.readline().strip()


def _print(data: Any, as_json: bool) -> None:
    if as_json:
        print(json.dumps(data, indent=2))
        return
    for row in data if isinstance(data, list) else [data]:
        print("  ".join(f"{k}={_plain(v)}" for k, v in row.items() if k != "tenantId"))


def _plain(value: Any) -> str:
    if isinstance(value, list):
        return ",".join(value) or "*"
    return "-" if value is None else str(value)


def _with_secret(endpoint: Endpoint, secret: str, as_json: bool) -> None:
    _print({**endpoint.to_json(), "secret": secret}, as_json)
    if not as_json:
        print("Keep the secret now: it signs every webhook and is not shown again.")


def run(rt: Runtime, who: Who, args: argparse.Namespace) -> None:
    if args.action == "types":
        print("\n".join([*KINDS, AUDIT_WILDCARD]))
        return
    tenant_id = tenants.get(rt, args.tenant_id).id
    if args.action == "create":
        endpoint, secret = operator_changes.create_endpoint(
            rt,
            who,
            tenant_id,
            url=args.url,
            event_types=args.events or (),
            description=args.description or "",
            enabled=args.enabled is not False,
            secret=_read_secret(args),
        )
        _with_secret(endpoint, secret, args.json)
    elif args.action == "rotate-secret":
        endpoint, secret = operator_changes.rotate_endpoint_secret(
            rt,
            who,
            tenant_id,
            args.endpoint_id,
            keep_previous_for=timedelta(hours=args.keep_previous_hours),
            secret=_read_secret(args),
        )
        _with_secret(endpoint, secret, args.json)
    elif args.action == "update":
        _update(rt, who, tenant_id, args)
    elif args.action == "delete":
        operator_changes.delete_endpoint(rt, who, tenant_id, args.endpoint_id)
        print(f"deleted webhook endpoint {args.endpoint_id}")
    else:
        _print(_read_or_queue(rt, who, tenant_id, args), args.json)


def _update(rt: Runtime, who: Who, tenant_id: str, args: argparse.Namespace) -> None:
    endpoint = operator_changes.update_endpoint(
        rt,
        who,
        tenant_id,
        args.endpoint_id,
        url=args.url,
        event_types=() if args.all_events else args.events,
        description=args.description,
        enabled=args.enabled,
    )
    _print(endpoint.to_json(), args.json)


def _read_or_queue(rt: Runtime, who: Who, tenant_id: str, args: argparse.Namespace) -> Any:
    if args.action == "list":
        return [e.to_json() for e in webhooks.list_endpoints(rt, tenant_id)]
    if args.action == "test":
        return webhooks.send_test(rt, tenant_id, args.endpoint_id).to_json()
    if args.action == "redeliver":
        return operator_changes.redeliver(rt, who, tenant_id, args.delivery_id).to_json()
    if args.action == "attempts":
        return [a.to_json() for a in webhooks.list_attempts(rt, tenant_id, args.delivery_id)]
    found = webhooks.list_deliveries(
        rt,
        tenant_id,
        endpoint_id=args.endpoint_id,
        event_id=args.event_id,
        state=args.state,
        limit=args.limit,
    )
    return [d.to_json() for d in found]
