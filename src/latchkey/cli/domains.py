"""`latchkey tenant verify-domain`: prove a domain granted to a tenant (services/domains.py), and
the proof still owed for each unproved domain, shown by `tenant show` and `tenant update`."""

from __future__ import annotations

import argparse
import json
from typing import Any

from latchkey.cli.context import database_option
from latchkey.runtime import Runtime
from latchkey.services import domains, tenants


def add_parser(tenant: Any) -> None:
    verify = tenant.add_parser(
        "verify-domain",
        help="check the DNS TXT record or HTTP file that proves a tenant's domain; the domain"
        " serves the tenant only once proved",
    )
    verify.add_argument("tenant_id")
    verify.add_argument("domain")
    verify.add_argument(
        "--method", choices=["any", "dns", "http"], default="any", help="which proof to check"
    )
    verify.add_argument("--json", action="store_true")
    database_option(verify)


def pending(rt: Runtime, tenant_id: str) -> list[dict[str, Any]]:
    """What each unproved domain's owner must publish."""
    return [s.to_dict() for s in domains.statuses(rt, tenant_id) if s.verified_at is None]


def describe(owed: list[dict[str, Any]]) -> list[str]:
    lines = []
    for item in owed:
        record, file = item["txt_record"], item["file"]
        lines.append(
            f"domain {item['domain']} serves nothing until proved: publish the TXT record"
            f" {record['name']} = {record['value']!r}, or the file {file['url']} holding"
            f" {file['content']!r}, then run: latchkey tenant verify-domain TENANT"
            f" {item['domain']}"
        )
    return lines


def run_verify(rt: Runtime, args: argparse.Namespace) -> None:
    tenants.get(rt, args.tenant_id)
    status, how = domains.verify(rt, args.tenant_id, args.domain, method=args.method)
    if args.json:
        print(json.dumps(status.to_dict() | {"proved_by": how}, indent=2))
        return
    print(f"domain {status.domain} is proved ({how}): it serves tenant {args.tenant_id} now")
