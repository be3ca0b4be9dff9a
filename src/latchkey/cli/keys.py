"""`latchkey keys rotate|jwks`: a tenant's token signing keys."""

from __future__ import annotations

import argparse
import json
from typing import Any

from latchkey.cli.context import database_option
from latchkey.runtime import Runtime
from latchkey.services import operator_changes, signing_keys, tenants
from latchkey.services.operator_changes import Who


def add_parser(commands: Any) -> None:
    keys = commands.add_parser("keys", help="manage a tenant's token signing keys")
    key_actions = keys.add_subparsers(dest="action", required=True)
    rotate = key_actions.add_parser(
        "rotate", help="retire the active signing key (still published until its tokens expire)"
    )
    rotate.add_argument("tenant_id")
    rotate.add_argument("--alg", choices=signing_keys.ALGORITHMS, default="ES256")
    database_option(rotate)
    jwks = key_actions.add_parser("jwks", help="print the tenant's published JWKS")
    jwks.add_argument("tenant_id")
    database_option(jwks)


def run(rt: Runtime, who: Who, args: argparse.Namespace) -> None:
    tenants.get(rt, args.tenant_id)
    if args.action == "rotate":
        kid = operator_changes.rotate_signing_key(rt, who, args.tenant_id, args.alg)
        print(
            f"new signing key {kid} ({args.alg}); the previous one stays published for"
            f" {signing_keys.SIGNED_TOKEN_LIFETIME} so its tokens keep verifying"
        )
    else:
        print(json.dumps(signing_keys.jwks(rt, args.tenant_id), indent=2))
