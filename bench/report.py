"""One measured cell (target, database, steps, concurrency) and the table of them."""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from bench.histogram import LatencyHistogram
from bench.targets import TWO_STEP

SATURATED_PERCENT = 90.0  # a generator busier than this on its core may be the bottleneck
OTHER_LOAD_PERCENT = 10.0  # more than this of the server's core spent elsewhere is reported


@dataclass
class CellResult:
    target: str
    database: str
    steps: str
    concurrency: int
    ceremonies: int
    seconds: float
    histogram: LatencyHistogram
    generator_cpu_s: float
    server_cpu_s: float | None = None
    postgres_cpu_s: float | None = None
    server_core_busy_s: float | None = None  # all CPU time on the server's core
    commit_groups: tuple[int, int] | None = None  # (groups, jobs) the group writer committed
    errors: Counter[str] = field(default_factory=Counter)
    round: int = 1  # with --rounds: which pass of the peer and Latchkey this cell is of

    @property
    def rate(self) -> float:
        return self.ceremonies / self.seconds if self.seconds else 0.0

    def per_ceremony_us(self, cpu_s: float | None) -> float | None:
        if cpu_s is None or not self.ceremonies:
            return None
        return cpu_s / self.ceremonies * 1e6

    @property
    def other_on_server_core_percent(self) -> float | None:
        """What ran on the server's core besides the server, as % of the window (PostgreSQL,
        when it lands there, counts here too)."""
        if self.server_core_busy_s is None or self.server_cpu_s is None or not self.seconds:
            return None
        return round(100 * max(0.0, self.server_core_busy_s - self.server_cpu_s) / self.seconds, 1)

    @property
    def mean_group(self) -> float | None:
        """Writes per commit (per fsync on SQLite) in the window."""
        if not self.commit_groups or not self.commit_groups[0]:
            return None
        return self.commit_groups[1] / self.commit_groups[0]

    @property
    def generator_percent(self) -> float:
        return 100 * self.generator_cpu_s / self.seconds if self.seconds else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "database": self.database,
            "steps": self.steps,
            "concurrency": self.concurrency,
            "ceremonies": self.ceremonies,
            "seconds": round(self.seconds, 3),
            "ceremonies_per_s": round(self.rate, 1),
            "p50_ms": self.histogram.percentile_ms(50),
            "p99_ms": self.histogram.percentile_ms(99),
            "p999_ms": self.histogram.percentile_ms(99.9),
            "server_cpu_us_per_ceremony": self.per_ceremony_us(self.server_cpu_s),
            "postgres_cpu_us_per_ceremony": self.per_ceremony_us(self.postgres_cpu_s),
            "mean_commit_group": self.mean_group,
            "generator_cpu_percent": round(self.generator_percent, 1),
            "server_core_other_percent": self.other_on_server_core_percent,
            "errors": sum(self.errors.values()),
            "error_kinds": dict(self.errors),
        }


HEADER = (
    "target",
    "db",
    "steps",
    "C",
    "ceremonies/s",
    "p50 ms",
    "p99 ms",
    "p99.9 ms",
    "server CPU µs/ceremony",
    "postgres CPU µs/ceremony",
    "commit group",
    "generator CPU %",
    "errors",
)


def _num(value: float | None, digits: int) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def _row(cell: CellResult, rounds: int = 1) -> tuple[str, ...]:
    hist = cell.histogram
    gen = f"{cell.generator_percent:.0f}"
    if cell.generator_percent >= SATURATED_PERCENT:
        gen += " (saturated)"
    return (
        cell.target if rounds == 1 else f"{cell.target} #{cell.round}",
        cell.database,
        cell.steps,
        str(cell.concurrency),
        _num(cell.rate, 0),
        _num(hist.percentile_ms(50), 2),
        _num(hist.percentile_ms(99), 2),
        _num(hist.percentile_ms(99.9), 2),
        _num(cell.per_ceremony_us(cell.server_cpu_s), 0),
        _num(cell.per_ceremony_us(cell.postgres_cpu_s), 0),
        _num(cell.mean_group, 1),
        gen,
        str(sum(cell.errors.values())),
    )


def table(cells: list[CellResult]) -> str:
    """A Markdown table, one row per cell, numbers right-aligned."""
    rounds = len({c.round for c in cells})
    rows = [HEADER, *(_row(c, rounds) for c in cells)]
    widths = [max(len(r[i]) for r in rows) for i in range(len(HEADER))]
    left = {0, 1, 2}

    def line(row: tuple[str, ...]) -> str:
        cols = [
            v.ljust(w) if i in left else v.rjust(w)
            for i, (v, w) in enumerate(zip(row, widths, strict=True))
        ]
        return "| " + " | ".join(cols) + " |"

    rule = (
        "|"
        + "|".join(
            ("-" * (w + 1) + ":") if i not in left else "-" * (w + 2) for i, w in enumerate(widths)
        )
        + "|"
    )
    return "\n".join([line(rows[0]), rule, *(line(r) for r in rows[1:])])


def ratio_lines(cells: list[CellResult]) -> list[str]:
    """Latchkey over the peer on the same two steps, at each concurrency both ran (in the same
    round); with several rounds, each round's ratio and then their median."""
    peers = {(c.round, c.concurrency): c for c in cells if c.target == "peer"}
    rounds = len({c.round for c in cells})
    lines = []
    ratios: dict[tuple[int, str], list[float]] = {}
    for cell in cells:
        peer = peers.get((cell.round, cell.concurrency))
        if cell.target != "latchkey" or cell.steps != TWO_STEP or peer is None or not peer.rate:
            continue
        ratio = cell.rate / peer.rate
        ratios.setdefault((cell.concurrency, cell.database), []).append(ratio)
        where = f"C={cell.concurrency} [{cell.database}]" + (
            f" round {cell.round}" if rounds > 1 else ""
        )
        line = f"latchkey/peer (options→verify) at {where}: {ratio:.2f}"
        ours, theirs = (
            cell.per_ceremony_us(cell.server_cpu_s),
            peer.per_ceremony_us(peer.server_cpu_s),
        )
        if ours and theirs:
            line += f" (server CPU per sign-in {ours / theirs:.2f}x the peer's)"
        lines.append(line)
    if rounds > 1:
        for (level, database), found in ratios.items():
            found.sort()
            lines.append(
                f"latchkey/peer (options→verify) at C={level} [{database}], median of"
                f" {len(found)} rounds: {statistics.median(found):.2f}"
                f" (lowest {found[0]:.2f}, highest {found[-1]:.2f})"
            )
    return lines


def error_lines(cells: list[CellResult]) -> list[str]:
    lines = []
    for cell in cells:
        for kind, count in cell.errors.most_common(5):
            lines.append(
                f"errors {cell.target} {cell.database} {cell.steps} C={cell.concurrency}:"
                f" {count} x {kind}"
            )
    return lines


def saturation_lines(cells: list[CellResult]) -> list[str]:
    lines = []
    for c in cells:
        name = f"{c.target} {c.database} {c.steps} C={c.concurrency}"
        if c.generator_percent >= SATURATED_PERCENT:
            lines.append(
                f"warning: the generator used {c.generator_percent:.0f}% of its core for {name}:"
                " that cell may measure the generator"
            )
        other = c.other_on_server_core_percent
        if other is not None and other >= OTHER_LOAD_PERCENT:
            also = " (PostgreSQL included)" if c.postgres_cpu_s is not None else ""
            lines.append(
                f"note: other processes{also} used {other:.0f}% of the server's core during {name}"
            )
    return lines
