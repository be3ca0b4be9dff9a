"""`latchkey mds ...`: the FIDO metadata in use, loading a newer signed blob, finding models;
and the tenant options that name models or attestation anchors."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from latchkey.cli.context import database_option
from latchkey.errors import ConfigError
from latchkey.runtime import Runtime
from latchkey.services import metadata
from latchkey.webauthn.policy import (
    ANCHOR_FORMATS,
    CERTIFICATION,
    KEY_PROTECTION,
    PRESETS,
    STATUS_RULES,
)


def add_parser(commands: Any) -> None:
    mds = commands.add_parser("mds", help="FIDO Metadata Service: show, update, find models")
    actions = mds.add_subparsers(dest="action", required=True)
    show = actions.add_parser("show", help="the metadata in use: serial, nextUpdate, source")
    show.add_argument("--json", action="store_true")
    update = actions.add_parser("update", help="load a newer signed MDS3 blob")
    given = update.add_mutually_exclusive_group(required=True)
    given.add_argument("--file", type=Path, help="a blob downloaded from the FIDO service")
    given.add_argument("--url", help="download the blob (https) from here")
    update.add_argument(
        "--trust-root",
        type=Path,
        help="PEM root the blob must chain to (default: the FIDO root, GlobalSign Root CA - R3)",
    )
    models = actions.add_parser("models", help="authenticator models whose name contains TEXT")
    models.add_argument("text", nargs="?", default="")
    models.add_argument("--json", action="store_true")
    for sub in (show, update, models):
        database_option(sub)


def run(rt: Runtime, args: argparse.Namespace, *, sender: str) -> None:
    if args.action == "show":
        found = metadata.info(rt)
        if args.json:
            print(json.dumps(found, indent=2))
            return
        for key, value in found.items():
            print(f"{key:>12}: {value}")
        if found["stale"]:
            print(
                "warning: the metadata is past its nextUpdate; load a newer blob with"
                " `latchkey mds update`"
            )
    elif args.action == "update":
        _update(rt, args, sender=sender)
    else:
        listed = metadata.search(rt, args.text)
        if args.json:
            print(json.dumps([m.to_summary() for m in listed], indent=2))
        for model in [] if args.json else listed:
            shown = model.compromised_status or (
                f"FIDO {model.certification}" if model.certification else "not certified"
            )
            print(f"{model.aaguid}  {model.description}  [{shown}]")


def _update(rt: Runtime, args: argparse.Namespace, *, sender: str) -> None:
    if args.file is not None:
        try:
            blob = args.file.read_bytes()
        except OSError as exc:
            raise ConfigError(f"cannot read {args.file}: {exc.strerror}") from exc
        source = f"file {args.file.name}"
    else:
        blob = metadata.fetch(args.url)
        source = f"url {args.url}"[:255]
    root = _root(args.trust_root) if args.trust_root is not None else None
    done = metadata.install(rt, blob, source=source, root=root, sender=sender)
    loaded = done.metadata
    print(
        f"loaded FIDO metadata serial {loaded.no} (nextUpdate {loaded.next_update.isoformat()},"
        f" {len(loaded.models)} models) from {source}"
    )
    for change in done.changes:
        print(f"status change: {change.model} ({change.aaguid}) is now {change.status}")
    if done.alerts:
        print(f"{done.alerts} tenant alert(s) raised for stored passkeys of these models")


def _root(path: Path) -> bytes:
    try:
        return x509.load_pem_x509_certificate(path.read_bytes()).public_bytes(Encoding.DER)
    except (OSError, ValueError) as exc:
        raise ConfigError(f"--trust-root {path} is not a readable PEM certificate") from exc


# The tenant commands' attestation options (cli/tenants.py: `tenant create` / `tenant update`).


def add_policy_options(group: Any) -> None:
    group.add_argument("--policy-preset", choices=list(PRESETS), help="start from this preset")
    group.add_argument(
        "--allow-model",
        action="append",
        metavar="NAME|AAGUID",
        help="accept only these models (repeat; names as `latchkey mds models` lists them)",
    )
    group.add_argument(
        "--deny-model", action="append", metavar="NAME|AAGUID", help="refuse a model"
    )
    group.add_argument("--min-certification", choices=CERTIFICATION)
    group.add_argument("--key-protection", choices=KEY_PROTECTION)
    group.add_argument(
        "--status-rule", choices=STATUS_RULES, help="when a model is reported compromised"
    )
    group.add_argument(
        "--anchor",
        action="append",
        metavar="FORMAT=PEMFILE",
        help=f"a trust anchor for an attestation format ({', '.join(ANCHOR_FORMATS)})",
    )
    group.add_argument(
        "--no-anchor", action="append", metavar="FORMAT", help="hold no anchor for this format"
    )


def policy_changes(rt: Runtime, args: argparse.Namespace) -> dict[str, Any]:
    changes: dict[str, Any] = dict(PRESETS[args.policy_preset]) if args.policy_preset else {}
    if args.allow_model:
        changes["aaguid_allow"] = metadata.resolve_models(rt, args.allow_model)
    if args.deny_model:
        changes["aaguid_deny"] = metadata.resolve_models(rt, args.deny_model)
    for name in ("min_certification", "key_protection", "status_rule"):
        if getattr(args, name) is not None:
            changes[name] = getattr(args, name)
    anchors: dict[str, Any] = {}
    for item in args.anchor or []:
        fmt, _, path = item.partition("=")
        try:
            anchors.setdefault(fmt, []).append(Path(path).read_text())
        except OSError as exc:
            raise ConfigError(f"--anchor {item}: cannot read {path}: {exc.strerror}") from exc
    for fmt in args.no_anchor or []:
        anchors[fmt] = "none"
    if anchors:
        changes["attestation_anchors"] = anchors
    return changes
