"""`latchkey tenant create|list|show|update|anonymous-actions` (and `verify-domain`, in
cli/domains.py): tenants, their relying party, origins and passkey policy."""

from __future__ import annotations

import argparse
import json
from typing import Any

from latchkey.cli import domains, mds
from latchkey.cli.context import database_option
from latchkey.models import Tenant
from latchkey.runtime import Runtime
from latchkey.services import operator_changes, tenants
from latchkey.services.operator_changes import Who
from latchkey.webauthn.policy import (
    ALGORITHMS,
    ATTACHMENT,
    ATTESTATION,
    RESIDENT_KEY,
    USER_VERIFICATION,
)


def _policy_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("passkey policy")
    group.add_argument("--user-verification", choices=USER_VERIFICATION)
    group.add_argument("--resident-key", choices=RESIDENT_KEY)
    group.add_argument("--attestation", choices=ATTESTATION)
    group.add_argument(
        "--algorithm",
        action="append",
        choices=list(ALGORITHMS),
        dest="algorithms",
        help="allowed COSE algorithm (repeat; default ES256, EdDSA, RS256)",
    )
    group.add_argument("--timeout-ms", type=int, help="ceremony timeout in milliseconds")
    group.add_argument(
        "--allow-synced",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="accept synced (backup-eligible) passkeys",
    )
    group.add_argument(
        "--attachment", choices=ATTACHMENT, help="limit to this authenticator attachment"
    )
    mds.add_policy_options(group)


def _tenant_options(parser: argparse.ArgumentParser, *, creating: bool) -> None:
    parser.add_argument("--rp-id", required=creating, help="Relying Party ID, e.g. example.com")
    parser.add_argument("--rp-name", help="name shown by authenticators")
    parser.add_argument("--name", help="tenant name (default: the RP name)")
    parser.add_argument(
        "--origin",
        action="append",
        dest="origins",
        required=creating,
        help="expected origin (repeat): https://app.example.com, http://localhost:3000,"
        " android:apk-key-hash:<base64url sha-256>",
    )
    parser.add_argument(
        "--related-origin",
        action="append",
        dest="related_origins",
        help="an https origin on another registrable domain that may use this RP ID (repeat;"
        " published at /.well-known/webauthn)",
    )
    parser.add_argument(
        "--domain",
        action="append",
        dest="domains",
        help="a host name the tenant serves its OIDC and association files on (repeat;"
        " the RP ID or a subdomain of it)",
    )
    _policy_options(parser)
    parser.add_argument("--json", action="store_true", help="print JSON")


def add_parser(commands: Any) -> None:
    tenant = commands.add_parser("tenant", help="manage tenants").add_subparsers(
        dest="action", required=True
    )
    create = tenant.add_parser("create", help="create a tenant and print its secret key once")
    _tenant_options(create, creating=True)
    database_option(create)
    listing = tenant.add_parser("list", help="list tenants")
    listing.add_argument("--json", action="store_true")
    database_option(listing)
    for name in ("show", "update"):
        sub = tenant.add_parser(name, help=f"{name} a tenant")
        sub.add_argument("tenant_id")
        if name == "update":
            _tenant_options(sub, creating=False)
        else:
            sub.add_argument("--json", action="store_true")
        database_option(sub)
    anonymous = tenant.add_parser(
        "anonymous-actions",
        help="the action names a sign-in without an action token may carry",
    )
    anonymous.add_argument("tenant_id")
    anonymous.add_argument("names", nargs="*", help="allowed names (none: no anonymous sign-in)")
    anonymous.add_argument(
        "--any", action="store_true", help="any name the backend does not track (the default)"
    )
    anonymous.add_argument("--json", action="store_true")
    database_option(anonymous)
    domains.add_parser(tenant)


def _policy_changes(rt: Runtime, args: argparse.Namespace) -> dict[str, Any]:
    given = {
        "user_verification": args.user_verification,
        "resident_key": args.resident_key,
        "attestation": args.attestation,
        "algorithms": args.algorithms,
        "timeout_ms": args.timeout_ms,
        "allow_synced": args.allow_synced,
        "authenticator_attachment": args.attachment,
    }
    return mds.policy_changes(rt, args) | {k: v for k, v in given.items() if v is not None}


def _shown(tenant: Tenant) -> dict[str, Any]:
    """The tenant's fields as the command prints them (its retention: `latchkey events`)."""
    data = tenant.to_dict()
    del data["event_retention_days"]
    if tenant.anonymous_actions is None:
        data["anonymous_actions"] = "any not tracked"
    data["created_at"] = tenant.created_at.isoformat()
    data["updated_at"] = tenant.updated_at.isoformat()
    return data


def _print_tenant(
    tenant: Tenant,
    *,
    as_json: bool,
    secret: str | None = None,
    proved: list[str] | None = None,
    owed: list[dict[str, Any]] | None = None,
) -> None:
    data = _shown(tenant)
    data["domains"] = sorted(proved or [])
    if owed:
        data["unproved_domains"] = owed
    if secret:
        data["secret_key"] = secret
    if as_json:
        print(json.dumps(data, indent=2))
        return
    for key, value in data.items():
        if key == "unproved_domains":
            continue
        shown = ", ".join(value) if isinstance(value, list) else value
        if isinstance(value, dict):
            shown = ", ".join(f"{k}={v}" for k, v in value.items())
        print(f"{key:>12}: {shown}")
    for line in domains.describe(owed or []):
        print(line)
    if secret:
        print("Keep the secret key now: Latchkey stores only its hash and cannot show it again.")


def run(rt: Runtime, who: Who, args: argparse.Namespace) -> None:
    if args.action == "create":
        tenant, secret = operator_changes.create_tenant(
            rt,
            who,
            rp_id=args.rp_id,
            rp_name=args.rp_name,
            name=args.name,
            origins=args.origins,
            policy_changes=_policy_changes(rt, args),
            domains=args.domains,
            related_origins=args.related_origins,
        )
        _print_tenant(
            tenant,
            as_json=args.json,
            secret=secret,
            proved=tenants.domains(rt, tenant.id),
            owed=domains.pending(rt, tenant.id),
        )
    elif args.action == "list":
        found = tenants.list_all(rt)
        if args.json:
            print(json.dumps([_shown(t) for t in found], indent=2))
        for t in [] if args.json else found:
            print(f"{t.id}  {t.rp_id:<30} {t.name}")
    elif args.action == "show":
        tenant = tenants.get(rt, args.tenant_id)
        owed = domains.pending(rt, tenant.id)
        _print_tenant(tenant, as_json=args.json, proved=tenants.domains(rt, tenant.id), owed=owed)
    elif args.action == "verify-domain":
        domains.run_verify(rt, args)
    elif args.action == "anonymous-actions":
        if args.any and args.names:
            raise SystemExit("give names or --any, not both")
        tenant = operator_changes.set_anonymous_actions(
            rt, who, args.tenant_id, None if args.any else args.names
        )
        _print_tenant(tenant, as_json=args.json, proved=tenants.domains(rt, tenant.id))
    else:
        tenant = operator_changes.update_tenant(
            rt,
            who,
            args.tenant_id,
            rp_id=args.rp_id,
            rp_name=args.rp_name,
            name=args.name,
            origins=args.origins,
            policy_changes=_policy_changes(rt, args),
            related_origins=args.related_origins,
            domains=args.domains,
        )
        owed = domains.pending(rt, tenant.id)
        _print_tenant(tenant, as_json=args.json, proved=tenants.domains(rt, tenant.id), owed=owed)
