"""`latchkey events prune|retention`: the event log's retention (how long a tenant keeps its
events, and deleting those past it)."""

from __future__ import annotations

import argparse
from typing import Any

from latchkey.cli.context import database_option
from latchkey.runtime import Runtime
from latchkey.services import operator_changes, retention
from latchkey.services.operator_changes import Who


def add_parser(commands: Any) -> None:
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


def run(rt: Runtime, who: Who, args: argparse.Namespace) -> None:
    if args.action == "retention":
        days = None if args.forever else args.days
        tenant = operator_changes.set_event_retention(rt, who, args.tenant_id, days)
        kept = tenant.event_retention_days
        print(f"tenant {tenant.id} keeps events {f'{kept} days' if kept else 'for ever'}")
        return
    pruned = retention.prune(rt, tenant_id=args.tenant_id)
    for tenant_id, count in pruned.items():
        print(f"{tenant_id}: {count} events pruned")
    print(f"pruned {sum(pruned.values())} events in {len(pruned)} tenants with a retention")
