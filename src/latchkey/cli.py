"""The `latchkey` command: serve, demo, migrate, and tenant, app and directory administration."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from sqlalchemy.exc import OperationalError

from latchkey import (
    __version__,
    cli_admin,
    cli_apps,
    cli_domains,
    cli_mds,
    cli_pools,
    cli_webhooks,
    config,
    logs,
    modes,
    preflight,
)
from latchkey.errors import LatchkeyError
from latchkey.models import Tenant
from latchkey.modes import Mode
from latchkey.services import runtime, tenants
from latchkey.services.runtime import Runtime
from latchkey.store import migrate
from latchkey.webauthn.policy import (
    ALGORITHMS,
    ATTACHMENT,
    ATTESTATION,
    RESIDENT_KEY,
    USER_VERIFICATION,
)


def _database_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--database-url",
        help="SQLAlchemy URL (default: $LATCHKEY_DATABASE_URL or sqlite:///./latchkey.db)",
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
    cli_mds.add_policy_options(group)


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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="latchkey", description="Self-hosted passkey service")
    parser.add_argument("--version", action="version", version=f"latchkey {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="migrate the database and run the HTTP server")
    serve.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (default 8000)")
    serve.add_argument("--workers", type=int, default=1, help="worker processes")
    serve.add_argument(
        "--dev",
        action="store_true",
        help="development mode: without LATCHKEY_MASTER_KEY a key file is made in the working"
        " directory, and an empty database gets a local tenant (never use in production)",
    )
    _database_option(serve)

    demo = commands.add_parser(
        "demo",
        help="run Latchkey with a demo login server (:5001), web app (:5002) and OIDC portal"
        " (:5003)",
    )
    demo.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    demo.add_argument("--port", type=int, help="Latchkey's port (default 8000)")
    demo.add_argument("--login-port", type=int, default=5001, help="login server port")
    demo.add_argument("--app-port", type=int, default=5002, help="web app port")
    demo.add_argument("--portal-port", type=int, default=5003, help="OIDC demo portal port")
    demo.add_argument(
        "--vendor-sdk-url",
        help="load the hosted vendor's browser SDK (@authsignal/browser bundle) from this URL"
        " instead of Latchkey's, to see it work unmodified",
    )
    _database_option(demo)

    _database_option(commands.add_parser("migrate", help="bring the database schema up to date"))
    cli_apps.add_parsers(commands, _database_option)
    cli_pools.add_parsers(commands, _database_option)
    cli_webhooks.add_parsers(commands, _database_option)
    cli_admin.add_parsers(commands, _database_option)
    cli_mds.add_parsers(commands, _database_option)

    tenant = commands.add_parser("tenant", help="manage tenants").add_subparsers(
        dest="action", required=True
    )
    create = tenant.add_parser("create", help="create a tenant and print its secret key once")
    _tenant_options(create, creating=True)
    _database_option(create)
    listing = tenant.add_parser("list", help="list tenants")
    listing.add_argument("--json", action="store_true")
    _database_option(listing)
    for name in ("show", "update"):
        sub = tenant.add_parser(name, help=f"{name} a tenant")
        sub.add_argument("tenant_id")
        if name == "update":
            _tenant_options(sub, creating=False)
        else:
            sub.add_argument("--json", action="store_true")
        _database_option(sub)
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
    _database_option(anonymous)
    cli_domains.add_parser(tenant, _database_option)
    return parser


def _runtime(
    args: argparse.Namespace, mode: Mode = Mode.COMMAND
) -> tuple[Runtime, config.Settings]:
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
    rt = runtime.build(settings)
    try:
        migrate.upgrade(rt.engine)
    except OperationalError as exc:
        raise preflight.database_problem(settings.database_url, exc) from exc
    return rt, settings


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
    return cli_mds.policy_changes(rt, args) | {k: v for k, v in given.items() if v is not None}


def tenant_dict(tenant: Tenant) -> dict[str, Any]:
    return {
        "id": tenant.id,
        "name": tenant.name,
        "rp_id": tenant.rp_id,
        "rp_name": tenant.rp_name,
        "origins": list(tenant.origins),
        "related_origins": list(tenant.related_origins),
        "policy": tenant.policy.to_dict(),
        "anonymous_actions": (
            "any not tracked"
            if tenant.anonymous_actions is None
            else list(tenant.anonymous_actions)
        ),
        "created_at": tenant.created_at.isoformat(),
        "updated_at": tenant.updated_at.isoformat(),
    }


def _print_tenant(
    tenant: Tenant,
    *,
    as_json: bool,
    secret: str | None = None,
    domains: list[str] | None = None,
    owed: list[dict[str, Any]] | None = None,
) -> None:
    data = tenant_dict(tenant)
    data["domains"] = sorted(domains or [])
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
    for line in cli_domains.describe(owed or []):
        print(line)
    if secret:
        print("Keep the secret key now: Latchkey stores only its hash and cannot show it again.")


def _tenant_command(args: argparse.Namespace) -> None:
    from latchkey.webauthn.policy import PasskeyPolicy

    rt, _ = _runtime(args)
    if args.action == "create":
        policy = PasskeyPolicy.from_dict(PasskeyPolicy().to_dict() | _policy_changes(rt, args))
        tenant, secret = tenants.create(
            rt,
            rp_id=args.rp_id,
            rp_name=args.rp_name,
            name=args.name,
            origins=args.origins,
            policy=policy,
            domains=args.domains,
            related_origins=args.related_origins,
        )
        _print_tenant(
            tenant,
            as_json=args.json,
            secret=secret,
            domains=tenants.domains(rt, tenant.id),
            owed=cli_domains.pending(rt, tenant.id),
        )
    elif args.action == "list":
        found = tenants.list_all(rt)
        if args.json:
            print(json.dumps([tenant_dict(t) for t in found], indent=2))
        for t in [] if args.json else found:
            print(f"{t.id}  {t.rp_id:<30} {t.name}")
    elif args.action == "show":
        tenant = tenants.get(rt, args.tenant_id)
        owed = cli_domains.pending(rt, tenant.id)
        _print_tenant(tenant, as_json=args.json, domains=tenants.domains(rt, tenant.id), owed=owed)
    elif args.action == "verify-domain":
        cli_domains.run_verify(rt, args)
    elif args.action == "anonymous-actions":
        from latchkey.services import action_names

        if args.any and args.names:
            raise SystemExit("give names or --any, not both")
        tenant = action_names.set_anonymous_actions(
            rt, args.tenant_id, None if args.any else args.names
        )
        _print_tenant(tenant, as_json=args.json, domains=tenants.domains(rt, tenant.id))
    else:
        tenant = tenants.update(
            rt,
            args.tenant_id,
            rp_id=args.rp_id,
            rp_name=args.rp_name,
            name=args.name,
            origins=args.origins,
            policy_changes=_policy_changes(rt, args),
            related_origins=args.related_origins,
        )
        if args.domains is not None:
            tenants.set_domains(rt, tenant.id, args.domains)
        owed = cli_domains.pending(rt, tenant.id)
        _print_tenant(tenant, as_json=args.json, domains=tenants.domains(rt, tenant.id), owed=owed)


def _demo(args: argparse.Namespace) -> None:
    from latchkey.demo.run import run

    rt, settings = _runtime(args, Mode.DEVELOPMENT)
    logs.configure(settings.log_level)
    run(
        rt,
        settings,
        login_port=args.login_port,
        app_port=args.app_port,
        portal_port=args.portal_port,
        vendor_sdk_url=args.vendor_sdk_url,
    )


def _serve(args: argparse.Namespace) -> None:
    from latchkey.serve import serve

    mode = Mode.DEVELOPMENT if args.dev else Mode.PRODUCTION
    rt, settings = _runtime(args, mode)
    logs.configure(settings.log_level)
    serve(rt, settings, workers=args.workers, dev=mode is Mode.DEVELOPMENT)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "serve":
            _serve(args)
        elif args.command == "demo":
            _demo(args)
        elif args.command == "app":
            cli_apps.run_app(_runtime(args)[0], args)
        elif args.command == "keys":
            cli_apps.run_keys(_runtime(args)[0], args)
        elif args.command == "directory":
            cli_apps.run_directory(_runtime(args)[0], args)
        elif args.command == "pool":
            cli_pools.run(_runtime(args)[0], args)
        elif args.command == "webhook":
            cli_webhooks.run(_runtime(args)[0], args)
        elif args.command == "admin":
            cli_admin.run_admin(_runtime(args)[0], args)
        elif args.command == "events":
            cli_admin.run_events(_runtime(args)[0], args)
        elif args.command == "mds":
            rt, settings = _runtime(args)
            cli_mds.run(rt, args, sender=settings.mail_from)
        elif args.command == "migrate":
            _runtime(args)
            print("database is up to date")
        else:
            _tenant_command(args)
    except LatchkeyError as error:
        print(f"latchkey: error: {error.message}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
