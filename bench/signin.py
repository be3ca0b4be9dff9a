"""Passkey sign-in load generator: C keep-alive connections run ceremonies back to back.

    python -m bench.signin --duration 5                       # quick
    python -m bench.signin --duration 10 --concurrency 1,16,64 --target both --database both

Each cell warms up, then counts the ceremonies that finish within `--duration` seconds, their
latency, and the CPU the server (and PostgreSQL) spent meanwhile. See bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
from collections.abc import Coroutine, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from bench import servers
from bench.cell import Probes, Target, run_cell
from bench.credentials import BenchCredential
from bench.httpclient import CLIENTS, connector
from bench.report import CellResult, error_lines, ratio_lines, saturation_lines, table
from bench.targets import LatchkeyTarget, PeerTarget, enroll

T = TypeVar("T")


def _run(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run on uvloop when it is installed (it is, with uvicorn[standard]), else asyncio."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coroutine)
    return uvloop.run(coroutine)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.signin", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--duration", type=float, default=10, help="measured seconds per cell")
    parser.add_argument("--warmup", type=float, default=2, help="unmeasured seconds first")
    parser.add_argument("--concurrency", default="1,16,64", help="comma-separated C values")
    parser.add_argument("--target", choices=("latchkey", "peer", "both"), default="both")
    parser.add_argument("--database", choices=("sqlite", "postgresql", "both"), default="sqlite")
    parser.add_argument(
        "--steps",
        choices=("full", "two-step", "both"),
        default="both",
        help="Latchkey's ceremony: with /v1/validate (full), without (two-step, the steps the"
        " peer has), or both rows",
    )
    parser.add_argument(
        "--users",
        type=int,
        default=0,
        help="passkeys to sign in with (default: 4 per worker at the top C, at least 64)",
    )
    parser.add_argument("--client", choices=CLIENTS, default="raw", help="HTTP client")
    parser.add_argument("--sign-count", choices=("zero", "increment"), default="zero")
    parser.add_argument(
        "--seeded", type=Path, help="key file from bench.seed: sign in as its users"
    )
    parser.add_argument("--seeded-tenant", type=int, default=0, help="which seeded tenant")
    parser.add_argument("--postgres-admin-url", default=servers.POSTGRES_ADMIN_URL)
    parser.add_argument("--postgres-database", default="latchkey_bench")
    parser.add_argument("--server-cpu", type=int, default=0, help="core for the servers")
    parser.add_argument("--generator-cpu", type=int, default=1, help="core for this generator")
    parser.add_argument("--no-pin", action="store_true", help="do not pin anything to cores")
    parser.add_argument("--json", type=Path, help="also write the cells here as JSON")
    parser.add_argument("--histogram", action="store_true", help="print each cell's histogram")
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="run the peer and Latchkey this many times, in alternating order, and print each"
        " round's ratio and their median (for a machine whose speed drifts)",
    )
    return parser.parse_args(argv)


@dataclass
class Plan:
    args: argparse.Namespace
    levels: list[int]
    users: int
    log: Path

    @property
    def server_cpu(self) -> int | None:
        return None if self.args.no_pin else self.args.server_cpu

    def cells(
        self,
        targets: Sequence[Target],
        credentials: Sequence[BenchCredential],
        port: int,
        database: str,
        probes: Probes,
    ) -> Iterator[CellResult]:
        connect = connector(self.args.client, "127.0.0.1", port)
        for target in targets:
            for level in self.levels:
                cell = _run(
                    run_cell(
                        target,
                        credentials,
                        connect,
                        concurrency=level,
                        duration=self.args.duration,
                        warmup=self.args.warmup,
                        database=database,
                        probes=probes,
                    )
                )
                print(_progress(cell), file=sys.stderr, flush=True)
                yield cell


def _progress(cell: CellResult) -> str:
    return (
        f"  {cell.target} {cell.database} {cell.steps} C={cell.concurrency}:"
        f" {cell.rate:,.0f}/s, {sum(cell.errors.values())} errors"
    )


def _enroll(plan: Plan, target: LatchkeyTarget | PeerTarget, port: int) -> list[BenchCredential]:
    step = 1 if plan.args.sign_count == "increment" else 0
    connect = connector(plan.args.client, "127.0.0.1", port)
    return _run(enroll(connect, target, plan.users, counter_step=step))


def _latchkey_targets(plan: Plan, tenant_id: str, secret: str, origin: str) -> list[Target]:
    steps = plan.args.steps
    chosen: list[Target] = []
    if steps in ("full", "both"):
        chosen.append(LatchkeyTarget(tenant_id, secret, origin, validate=True))
    if steps in ("two-step", "both"):
        chosen.append(LatchkeyTarget(tenant_id, secret, origin, validate=False))
    return chosen


@contextmanager
def _database(plan: Plan, kind: str, scratch: Path) -> Iterator[str]:
    if kind == "sqlite":
        yield f"sqlite:///{scratch / 'bench.db'}"
        return
    with servers.postgres_database(
        plan.args.postgres_database, plan.args.postgres_admin_url
    ) as url:
        yield url


def run_peer(plan: Plan) -> list[CellResult]:
    target = PeerTarget(servers.BENCH_ORIGIN)
    with servers.peer_server(cpu=plan.server_cpu, log=plan.log) as peer:
        held = _enroll(plan, target, peer.port)
        return list(
            plan.cells(
                [target], held, peer.port, "memory", Probes(peer.pid, server_cpu=plan.server_cpu)
            )
        )


def run_latchkey(plan: Plan, kind: str) -> list[CellResult]:
    with ExitStack() as stack:
        scratch = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="latchkey-bench-")))
        url = stack.enter_context(_database(plan, kind, scratch))
        server = stack.enter_context(
            servers.latchkey_server(url, cpu=plan.server_cpu, log=plan.log)
        )
        target = LatchkeyTarget(server.tenant_id, server.secret, servers.BENCH_ORIGIN)
        held = _enroll(plan, target, server.port)
        targets = _latchkey_targets(plan, server.tenant_id, server.secret, servers.BENCH_ORIGIN)
        probes = Probes(
            server.pid,
            postgres=kind == "postgresql",
            server_cpu=plan.server_cpu,
            writer_stats=server.writer_stats,
        )
        return list(plan.cells(targets, held, server.port, kind, probes))


def run_seeded(plan: Plan) -> list[CellResult]:
    from bench.keyfile import load_seeded

    seeded = load_seeded(plan.args.seeded, tenant=plan.args.seeded_tenant, count=plan.users)
    kind = "postgresql" if seeded.database_url.startswith("postgres") else "sqlite"
    tenant = (seeded.tenant_id, seeded.secret)
    with servers.latchkey_server(
        seeded.database_url, cpu=plan.server_cpu, log=plan.log, tenant=tenant
    ) as server:
        targets = _latchkey_targets(plan, seeded.tenant_id, seeded.secret, seeded.origin)
        label = f"{kind} seeded {seeded.total:,}"
        probes = Probes(
            server.pid,
            postgres=kind == "postgresql",
            server_cpu=plan.server_cpu,
            writer_stats=server.writer_stats,
        )
        return list(plan.cells(targets, seeded.credentials, server.port, label, probes))


def run_round(plan: Plan, *, peer_first: bool) -> list[CellResult]:
    """One pass over what was asked; the peer first or last (rounds alternate, so a machine
    that speeds up or slows down over the run favours neither side)."""
    args = plan.args
    if args.seeded:
        return run_seeded(plan)
    peer: list[CellResult] = []
    ours: list[CellResult] = []
    if args.target in ("peer", "both") and peer_first:
        peer = run_peer(plan)
    if args.target in ("latchkey", "both"):
        kinds = ("sqlite", "postgresql") if args.database == "both" else (args.database,)
        for kind in kinds:
            ours += run_latchkey(plan, kind)
    if args.target in ("peer", "both") and not peer_first:
        peer = run_peer(plan)
    return peer + ours


def _pin(args: argparse.Namespace) -> None:
    if args.no_pin:
        return
    available = os.sched_getaffinity(0)
    if {args.server_cpu, args.generator_cpu} - available or args.server_cpu == args.generator_cpu:
        print("warning: need two distinct cores; running unpinned", file=sys.stderr)
        args.no_pin = True
        return
    os.sched_setaffinity(0, {args.generator_cpu})  # the same as taskset -c <generator-cpu>


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    levels = [int(c) for c in args.concurrency.split(",") if c.strip()]
    users = args.users or max(64, 4 * max(levels))
    _pin(args)
    log = Path(tempfile.gettempdir()) / "latchkey-bench-servers.log"
    plan = Plan(args, levels, users, log)
    print(f"bench: {users} passkeys, C={levels}, server logs in {log}", file=sys.stderr)
    cells: list[CellResult] = []
    for number in range(1, max(1, args.rounds) + 1):
        done = run_round(plan, peer_first=number % 2 == 1)
        for cell in done:
            cell.round = number
        cells += done
    print(table(cells))
    for line in ratio_lines(cells) + error_lines(cells) + saturation_lines(cells):
        print(line)
    if args.histogram:
        for cell in cells:
            print(f"\n{cell.target} {cell.database} {cell.steps} C={cell.concurrency}")
            print(cell.histogram.render())
    if args.json:
        args.json.write_text(json.dumps([c.as_dict() for c in cells], indent=2))
    return 1 if any(c.errors for c in cells) else 0


if __name__ == "__main__":
    sys.exit(main())
