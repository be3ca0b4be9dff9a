"""`latchkey serve`, `latchkey demo` and `latchkey migrate`: running Latchkey, and bringing its
database up to date."""

from __future__ import annotations

import argparse
from typing import Any

from latchkey import logs
from latchkey.cli.context import database_option, runtime
from latchkey.modes import Mode


def add_parsers(commands: Any) -> None:
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
    database_option(serve)

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
    database_option(demo)

    database_option(commands.add_parser("migrate", help="bring the database schema up to date"))


def run_demo(args: argparse.Namespace) -> None:
    from latchkey.demo.run import run

    rt, settings = runtime(args, Mode.DEVELOPMENT)
    logs.configure(settings.log_level)
    run(
        rt,
        settings,
        login_port=args.login_port,
        app_port=args.app_port,
        portal_port=args.portal_port,
        vendor_sdk_url=args.vendor_sdk_url,
    )


def run_serve(args: argparse.Namespace) -> None:
    from latchkey.serve import serve

    mode = Mode.DEVELOPMENT if args.dev else Mode.PRODUCTION
    rt, settings = runtime(args, mode)
    logs.configure(settings.log_level)
    serve(rt, settings, workers=args.workers, dev=mode is Mode.DEVELOPMENT)


def run_migrate(args: argparse.Namespace) -> None:
    runtime(args)
    print("database is up to date")
