"""One measured cell: C keep-alive connections running ceremonies back to back against one
target, with the CPU time the server, PostgreSQL and the generator spent in the window."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from bench import servers
from bench.credentials import BenchCredential
from bench.histogram import LatencyHistogram
from bench.httpclient import Connection, HttpError
from bench.report import CellResult
from bench.targets import CeremonyFailed


class Target(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def steps(self) -> str: ...

    async def ceremony(self, conn: Connection, credential: BenchCredential) -> None: ...


@dataclass(frozen=True)
class Reading:
    server: float | None
    postgres: dict[int, int]
    generator: float
    server_core: float | None
    commits: tuple[int, int] | None  # the group writer's (groups, jobs) so far


@dataclass
class Probes:
    """Where CPU time is read: the server's process tree, optionally PostgreSQL, this
    generator, and the server's core as a whole (to see what else ran on it)."""

    server_pid: int | None = None
    postgres: bool = False
    server_cpu: int | None = None
    writer_stats: Path | None = None

    def read(self) -> Reading:
        return Reading(
            server=servers.process_cpu_seconds(self.server_pid) if self.server_pid else None,
            postgres=servers.postgres_cpu() if self.postgres else {},
            generator=time.process_time(),
            server_core=(
                None if self.server_cpu is None else servers.core_busy_seconds(self.server_cpu)
            ),
            commits=servers.read_writer_stats(self.writer_stats) if self.writer_stats else None,
        )


def _delta(before: float | None, after: float | None) -> float | None:
    return None if before is None or after is None else after - before


def _commits(
    before: tuple[int, int] | None, after: tuple[int, int] | None
) -> tuple[int, int] | None:
    if before is None or after is None:
        return None
    return after[0] - before[0], after[1] - before[1]


class _State:
    def __init__(self) -> None:
        self.running = True
        self.recording = False


async def _worker(
    target: Target,
    conn: Connection,
    held: Sequence[BenchCredential],
    state: _State,
    histogram: LatencyHistogram,
    errors: Counter[str],
) -> None:
    turn = 0
    while state.running:
        credential = held[turn % len(held)]
        turn += 1
        started = time.perf_counter_ns()
        try:
            await target.ceremony(conn, credential)
        except CeremonyFailed as failed:
            errors[failed.kind] += 1
            continue
        except (HttpError, OSError) as broken:
            errors[f"connection: {type(broken).__name__}"] += 1
            await asyncio.sleep(0.01)
            continue
        if state.recording:
            histogram.record(time.perf_counter_ns() - started)


async def run_cell(
    target: Target,
    credentials: Sequence[BenchCredential],
    connect: Callable[[], Connection],
    *,
    concurrency: int,
    duration: float,
    warmup: float,
    database: str,
    probes: Probes | None = None,
) -> CellResult:
    """C workers, each on its own connection and its own share of the passkeys (no two
    in-flight ceremonies use one passkey), for `warmup` then `duration` seconds."""
    if len(credentials) < concurrency:
        raise ValueError(f"{len(credentials)} passkeys cannot serve {concurrency} workers")
    probes = probes or Probes()
    state = _State()
    histogram = LatencyHistogram()
    errors: Counter[str] = Counter()
    conns = [connect() for _ in range(concurrency)]
    tasks = [
        asyncio.create_task(
            _worker(target, conns[i], credentials[i::concurrency], state, histogram, errors)
        )
        for i in range(concurrency)
    ]
    try:
        await asyncio.sleep(warmup)
        before = probes.read()
        state.recording, started = True, time.perf_counter()
        await asyncio.sleep(duration)
        state.recording, seconds = False, time.perf_counter() - started
        after = probes.read()
        state.running = False
        await asyncio.wait_for(asyncio.gather(*tasks), timeout=60)
    finally:
        state.running = False
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for conn in conns:
            await conn.close()
    return CellResult(
        target=target.name,
        database=database,
        steps=target.steps,
        concurrency=concurrency,
        ceremonies=histogram.total,
        seconds=seconds,
        histogram=histogram,
        generator_cpu_s=after.generator - before.generator,
        server_cpu_s=_delta(before.server, after.server),
        postgres_cpu_s=(
            servers.postgres_cpu_delta(before.postgres, after.postgres) if probes.postgres else None
        ),
        server_core_busy_s=_delta(before.server_core, after.server_core),
        commit_groups=_commits(before.commits, after.commits),
        errors=errors,
    )
