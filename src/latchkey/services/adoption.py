"""Passkey adoption at a glance: the hosted sign-in funnel of a tenant (or one of its pools)
over a period, from the event log. Users who signed in and how many of them have a passkey;
the passkey offer after a password sign-in (shown, accepted, declined); sign-ins by method; the
time from the page's load to signed in; failures by reason and by step; sign-ins by operating
system, browser, passkey provider and synced or device-bound.

Every figure is counted by the database: a period's whole closed days from their rollup
(services/adoption_rollup.py, written by the retention worker), the rest (its ends, today, a
day not yet rolled up) from the events (GROUP BY over the (tenant, kind, time) index). Both
give the same parts (services/adoption_tally.py), so the figures are the same either way; only
the distinct User-Agent strings, AAGUIDs, users and times come back, to be named and ranked.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection

from latchkey import event_kinds as kinds
from latchkey.errors import InvalidRequest
from latchkey.runtime import Runtime
from latchkey.services import adoption_rollup as rollup
from latchkey.services import adoption_tally as tally
from latchkey.services import metadata, pools
from latchkey.services import sign_in_journey as journey
from latchkey.services.adoption_tally import STEPS, Tally
from latchkey.services.user_agents import platform

# Each sign-in's method (a passkey sign-in says its own: autofill, button or identifier-first;
# older ones, without it, count as "passkey").
PASSKEY = "passkey"
METHODS = (journey.AUTOFILL, journey.BUTTON, journey.IDENTIFIER, PASSKEY, journey.PASSWORD,
           journey.RECOVERY)  # fmt: skip
PERCENTILES = (50, 90)
DEFAULT_PERIOD = timedelta(days=30)
# A year and a day: a year's figures whatever the month lengths, never an unbounded scan.
MAX_PERIOD = timedelta(days=366)
ONE_DAY = timedelta(days=1)


@dataclass(frozen=True)
class Adoption:
    since: datetime
    until: datetime
    pool_id: str | None
    pages_loaded: int
    users_signed_in: int
    users_with_passkey: int
    sign_ins: int
    offers_shown: int
    offers_accepted: int
    offers_declined: int
    # (method, sign-ins) in METHODS order, every method present.
    methods: list[tuple[str, int]]
    # Milliseconds from the page's load to signed in (nearest rank), and how many were timed.
    median_ms: int | None
    p90_ms: int | None
    timed: int
    failures: int
    # (name, count), largest first.
    failure_reasons: list[tuple[str, int]]
    failure_steps: list[tuple[str, int]]
    operating_systems: list[tuple[str, int]]
    browsers: list[tuple[str, int]]
    providers: list[tuple[str, int]]
    synced: int
    device_bound: int


def period(
    now: datetime, since: datetime | None, until: datetime | None
) -> tuple[datetime, datetime]:
    """The period asked for: until now and the 30 days before unless said; each bound with
    its time zone, since before until, at most MAX_PERIOD long."""
    for name, value in (("since", since), ("until", until)):
        if value is not None and value.tzinfo is None:
            raise InvalidRequest(f"{name} needs a time zone (e.g. 2026-01-31T00:00:00Z)")
    end = until.astimezone(UTC) if until is not None else now
    start = since.astimezone(UTC) if since is not None else end - DEFAULT_PERIOD
    if start >= end:
        raise InvalidRequest("since must be before until")
    if end - start > MAX_PERIOD:
        raise InvalidRequest(f"a period is at most {MAX_PERIOD.days} days")
    return start, end


def for_tenant(
    rt: Runtime,
    tenant_id: str,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    pool: str | None = None,
) -> Adoption:
    """The figures asked for by an operator: the period checked (see `period`) and the pool
    named by its id or name, within the tenant only (another's is PoolNotFound)."""
    start, end = period(rt.now(), since, until)
    pool_id = pools.get(rt, tenant_id, pool).id if pool else None
    return funnel(rt, tenant_id, since=start, until=end, pool_id=pool_id)


def _method(kind: str, detail_method: Any) -> str:
    if kind == kinds.POOL_PASSWORD_SIGN_IN:
        return journey.PASSWORD
    if kind == kinds.POOL_RECOVERED:
        return journey.RECOVERY
    return str(detail_method) if detail_method in METHODS else PASSKEY


def funnel(
    rt: Runtime, tenant_id: str, *, since: datetime, until: datetime, pool_id: str | None = None
) -> Adoption:
    since, until = since.astimezone(UTC), until.astimezone(UTC)
    today = rt.now().astimezone(UTC).date()
    with rt.read() as conn:
        found = _tally(conn, tenant_id, pool_id, since, until, today)
    timing = _percentiles(found.times)
    methods: Counter[str] = Counter({m: 0 for m in METHODS})
    for (kind, detail_method), n in found.methods.items():
        methods[_method(kind, detail_method)] += n
    operating_systems: Counter[str] = Counter()
    browsers: Counter[str] = Counter()
    for agent, n in found.agents.items():
        named = platform(agent)
        operating_systems[named.os] += n
        browsers[named.browser] += n
    reasons: Counter[str] = Counter()
    steps: Counter[str] = Counter()
    for (kind, reason), n in found.failures.items():
        reasons[reason or "unknown"] += n
        steps[STEPS[kind]] += n
    providers: Counter[str] = Counter()
    for (aaguid, _), n in found.keys.items():
        providers[metadata.name_of(rt, aaguid) or "Unknown provider"] += n
    milestones = found.milestones
    users, with_passkey = found.distinct_users()
    return Adoption(
        since=since,
        until=until,
        pool_id=pool_id,
        pages_loaded=milestones[journey.PAGE_LOADED],
        users_signed_in=users,
        users_with_passkey=with_passkey,
        sign_ins=sum(found.methods.values()),
        offers_shown=milestones[journey.OFFER_SHOWN],
        offers_accepted=milestones[journey.OFFER_ACCEPTED],
        offers_declined=milestones[journey.OFFER_DECLINED],
        methods=[(m, methods[m]) for m in METHODS],
        median_ms=timing.get(50),
        p90_ms=timing.get(90),
        timed=timing.get(0, 0),
        failures=sum(steps.values()),
        failure_reasons=_ranked(reasons),
        failure_steps=_ranked(steps),
        operating_systems=_ranked(operating_systems),
        browsers=_ranked(browsers),
        providers=_ranked(providers),
        synced=sum(n for (_, eligible), n in found.keys.items() if eligible),
        device_bound=sum(n for (_, eligible), n in found.keys.items() if not eligible),
    )


def _tally(
    conn: Connection,
    tenant_id: str,
    pool_id: str | None,
    since: datetime,
    until: datetime,
    today: date,
) -> Tally:
    """The period's whole days that are rolled up, from the rollup; the rest (the ends of
    the period, today, and days not yet rolled up) from the events."""
    through = rollup.rolled_through(conn, tenant_id)
    first = since.date() if since == rollup.midnight(since.date()) else since.date() + ONE_DAY
    last = min(until.date(), today, through) if through is not None else first
    if first >= last:
        return tally.from_events(conn, tenant_id, pool_id, since, until)
    found = rollup.from_rollup(conn, tenant_id, pool_id, first, last)
    for start, end in ((since, rollup.midnight(first)), (rollup.midnight(last), until)):
        if start < end:
            found.add(tally.from_events(conn, tenant_id, pool_id, start, end))
    return found


def _percentiles(timed: list[int]) -> dict[int, int]:
    """{percentile: milliseconds} by nearest rank, and {0: how many were timed}: the time at
    rank ceil(total * p / 100) of the sorted list."""
    if not timed:
        return {}
    timed = sorted(timed)
    total = len(timed)
    found = {p: timed[(total * p + 99) // 100 - 1] for p in PERCENTILES}
    found[0] = total
    return found


def _ranked(counts: Counter[str]) -> list[tuple[str, int]]:
    # Largest first, ties by name: the same figures always read the same.
    return sorted(((k, n) for k, n in counts.items() if n), key=lambda kv: (-kv[1], kv[0]))


def tables(found: Adoption) -> dict[str, list[tuple[str, int | None]]]:
    """The figures as named two-column tables (what each chart draws, its data table and its
    CSV export show), in the order the portal shows them."""
    return {
        "funnel": [
            ("pages_loaded", found.pages_loaded),
            ("users_signed_in", found.users_signed_in),
            ("users_with_passkey", found.users_with_passkey),
            ("sign_ins", found.sign_ins),
        ],
        "offers": [
            ("shown", found.offers_shown),
            ("accepted", found.offers_accepted),
            ("declined", found.offers_declined),
        ],
        "methods": list(found.methods),
        "time_to_sign_in": [
            ("median_ms", found.median_ms),
            ("p90_ms", found.p90_ms),
            ("timed", found.timed),
        ],
        "failure_reasons": list(found.failure_reasons),
        "failure_steps": list(found.failure_steps),
        "operating_systems": list(found.operating_systems),
        "browsers": list(found.browsers),
        "providers": list(found.providers),
        "synced": [("synced", found.synced), ("device_bound", found.device_bound)],
    }
