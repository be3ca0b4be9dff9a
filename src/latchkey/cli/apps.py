"""`latchkey app create|list|show|update|delete`: a tenant's apps (OAuth clients) and their
device settings."""

from __future__ import annotations

import argparse
import json
from typing import Any

from latchkey.cli.context import database_option
from latchkey.cli.output import print_fields
from latchkey.errors import ConfigError
from latchkey.models import App
from latchkey.runtime import Runtime
from latchkey.services import app_origins, apps, operator_changes, tenants
from latchkey.services.operator_changes import Who


def _app_settings(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--name", help="the app's name")
    parser.add_argument("--redirect-uri", action="append", dest="redirect_uris")
    parser.add_argument(
        "--grant",
        action="append",
        dest="grant_types",
        choices=apps.GRANT_TYPES,
        help="allowed grant type (repeat); the passkey grant is off unless listed",
    )
    parser.add_argument("--ios-team-id", help="Apple team id (10 characters)")
    parser.add_argument("--ios-bundle-id", help="iOS bundle id, e.g. com.example.app")
    parser.add_argument("--android-package", help="Android package name")
    parser.add_argument(
        "--android-fingerprint",
        action="append",
        dest="android_fingerprints",
        help="SHA-256 fingerprint of an Android signing certificate (repeat)",
    )
    parser.add_argument(
        "--refresh-token-lifetime",
        type=int,
        metavar="SECONDS",
        help="how long a refresh-token family lives from its sign-in (default 30 days)",
    )
    parser.add_argument(
        "--audience",
        action="append",
        dest="audiences",
        help="an API its access tokens may be for (repeat; the first is the default;"
        " none: the tenant's own API audience)",
    )
    parser.add_argument("--json", action="store_true", help="print JSON")


def add_parser(commands: Any) -> None:
    app = commands.add_parser("app", help="manage a tenant's apps (OAuth clients)")
    actions = app.add_subparsers(dest="action", required=True)
    create = actions.add_parser("create", help="create an app (a confidential one gets a secret)")
    create.add_argument("tenant_id")
    create.add_argument("--type", dest="app_type", choices=apps.APP_TYPES, default="native")
    create.add_argument("--confidential", action="store_true", help="give the app a client secret")
    _app_settings(create)
    listing = actions.add_parser("list", help="list a tenant's apps")
    listing.add_argument("tenant_id")
    listing.add_argument("--json", action="store_true")
    show = actions.add_parser("show", help="show an app and its derived Android and iOS origins")
    show.add_argument("client_id")
    show.add_argument("--json", action="store_true")
    update = actions.add_parser("update", help="change an app's settings")
    update.add_argument("client_id")
    _app_settings(update)
    delete = actions.add_parser("delete", help="delete an app")
    delete.add_argument("client_id")
    for sub in (create, listing, show, update, delete):
        database_option(sub)


def app_dict(app: App, rp_id: str) -> dict[str, Any]:
    ios = app_origins.ios_origin(app, rp_id)
    return {
        "client_id": app.client_id,
        "tenant_id": app.tenant_id,
        "name": app.name,
        "type": app.app_type,
        "confidential": app.confidential,
        "redirect_uris": list(app.redirect_uris),
        "grant_types": list(app.grant_types),
        "ios_team_id": app.ios_team_id,
        "ios_bundle_id": app.ios_bundle_id,
        "android_package": app.android_package,
        "android_fingerprints": list(app.android_fingerprints),
        "android_origins": list(app_origins.android_origins(app)),
        # Accepted for the tenant's native ceremonies (what iOS reports as the origin).
        "ios_origins": [ios] if ios else [],
        "refresh_token_lifetime": int(apps.family_lifetime(app).total_seconds()),
        "audiences": list(app.audiences),
        "created_at": app.created_at.isoformat(),
        "updated_at": app.updated_at.isoformat(),
    }


def _settings(args: argparse.Namespace) -> dict[str, Any]:
    names = (
        "name",
        "redirect_uris",
        "grant_types",
        "ios_team_id",
        "ios_bundle_id",
        "android_package",
        "android_fingerprints",
        "refresh_token_lifetime",
        "audiences",
    )
    return {name: getattr(args, name) for name in names}


def run(rt: Runtime, who: Who, args: argparse.Namespace) -> None:
    if args.action == "create":
        settings = {k: v for k, v in _settings(args).items() if v is not None}
        name = settings.pop("name", None)
        if not name:
            raise ConfigError("--name is required")
        app, secret = operator_changes.create_app(
            rt,
            who,
            args.tenant_id,
            name=name,
            app_type=args.app_type,
            confidential=args.confidential,
            **settings,
        )
        data = app_dict(app, tenants.get(rt, app.tenant_id).rp_id)
        if secret:
            data["client_secret"] = secret
        print_fields(data, as_json=args.json)
        if secret and not args.json:
            print("Keep the client secret now: Latchkey stores only its hash.")
    elif args.action == "list":
        rp_id = tenants.get(rt, args.tenant_id).rp_id
        found = [app_dict(a, rp_id) for a in apps.list_for(rt, args.tenant_id)]
        if args.json:
            print(json.dumps(found, indent=2))
        for a in [] if args.json else found:
            print(f"{a['client_id']}  {a['type']:<12} {a['name']}")
    elif args.action in ("show", "update"):
        if args.action == "show":
            app = apps.get(rt, args.client_id)
        else:
            mine = operator_changes.app_of(rt, who, args.client_id)
            app = operator_changes.update_app(
                rt, who, mine.tenant_id, args.client_id, **_settings(args)
            )
        print_fields(app_dict(app, tenants.get(rt, app.tenant_id).rp_id), as_json=args.json)
    else:
        mine = operator_changes.app_of(rt, who, args.client_id)
        operator_changes.delete_app(rt, who, mine.tenant_id, args.client_id)
        print(f"deleted app {args.client_id}")
