"""Passkey adoption at a glance: the hosted sign-in funnel of a tenant (or one of its pools)
over a period, from the event log. Users who signed in and how many of them have a passkey;
the passkey offer after a password sign-in (shown, accepted, declined); sign-ins by method; the
time from the page's load to signed in; failures by reason and by step; sign-ins by operating
system, browser, passkey provider and synced or device-bound.

Every figure is counted by the database (GROUP BY, COUNT DISTINCT, a window function for the
percentiles) over the (tenant, kind, time) index, so a large log is never read into Python;
only the distinct User-Agent strings and AAGUIDs come back, to be named here.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import (
    Connection,
    Integer,
    String,
    case,
    cast,
    exists,
    func,
    literal,
    null,
    select,
    union_all,
)

from latchkey import event_kinds as kinds
from latchkey.errors import InvalidRequest
from latchkey.runtime import Runtime
from latchkey.services import metadata, pools
from latchkey.services import sign_in_journey as journey
from latchkey.services.user_agents import platform
from latchkey.store.tables import credentials, events

# The events that are a sign-in, and the method each stands for (a passkey sign-in says its
# own: autofill, button or identifier-first; older ones, without it, count as "passkey").
SIGN_IN_KINDS = (kinds.POOL_SIGNED_IN, kinds.POOL_PASSWORD_SIGN_IN, kinds.POOL_RECOVERED)
PASSKEY = "passkey"
METHODS = (journey.AUTOFILL, journey.BUTTON, journey.IDENTIFIER, PASSKEY, journey.PASSWORD,
           journey.RECOVERY)  # fmt: skip
# Where in a sign-in a failure happened: the step each failing event kind stands for.
STEPS = {
    kinds.PASSKEY_AUTHENTICATION: "passkey",
    kinds.POOL_PASSWORD_SIGN_IN: "password",
    kinds.POOL_RECOVERY_REQUESTED: "recovery_request",
    kinds.POOL_RECOVERED: "recovery_code",
}
PERCENTILES = (50, 90)
DEFAULT_PERIOD = timedelta(days=30)
# A year and a day: a year's figures whatever the month lengths, never an unbounded scan.
MAX_PERIOD = timedelta(days=366)


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


def _scope(tenant_id: str, pool_id: str | None, since: datetime, until: datetime) -> list[Any]:
    where = [events.c.tenant_id == tenant_id, events.c.created_at >= since,
             events.c.created_at < until]  # fmt: skip
    if pool_id is not None:
        where.append(events.c.pool_id == pool_id)  # `detail`'s pool_id, as a column
    return where


def _method(kind: str, detail_method: Any) -> str:
    if kind == kinds.POOL_PASSWORD_SIGN_IN:
        return journey.PASSWORD
    if kind == kinds.POOL_RECOVERED:
        return journey.RECOVERY
    return str(detail_method) if detail_method in METHODS else PASSKEY


def funnel(
    rt: Runtime, tenant_id: str, *, since: datetime, until: datetime, pool_id: str | None = None
) -> Adoption:
    scope = _scope(tenant_id, pool_id, since, until)
    signed_in = (*scope, events.c.kind.in_(SIGN_IN_KINDS), events.c.outcome == "success")
    with rt.read() as conn:
        signed = _sign_in_figures(conn, tenant_id, signed_in)
        failed = _failures(conn, scope)
        milestones = _milestones(conn, scope)
    users, with_passkey, keys = signed.users, signed.with_passkey, signed.keys
    timing = _percentiles(signed.times)
    counts: Counter[str] = Counter()
    methods: Counter[str] = Counter({m: 0 for m in METHODS})
    operating_systems: Counter[str] = Counter()
    browsers: Counter[str] = Counter()
    reasons: Counter[str] = Counter()
    steps: Counter[str] = Counter()
    for kind, detail_method, agent, n in signed.agents:
        counts[kind] += n
        methods[_method(kind, detail_method)] += n
        found = platform(agent)
        operating_systems[found.os] += n
        browsers[found.browser] += n
    for kind, reason, n in failed:
        reasons[reason or "unknown"] += n
        steps[STEPS[kind]] += n
    counts.update(dict(milestones))
    providers: Counter[str] = Counter()
    for aaguid, _, n in keys:
        providers[metadata.name_of(rt, aaguid) or "Unknown provider"] += n
    return Adoption(
        since=since,
        until=until,
        pool_id=pool_id,
        pages_loaded=counts[journey.PAGE_LOADED],
        users_signed_in=users,
        users_with_passkey=with_passkey,
        sign_ins=sum(counts[k] for k in SIGN_IN_KINDS),
        offers_shown=counts[journey.OFFER_SHOWN],
        offers_accepted=counts[journey.OFFER_ACCEPTED],
        offers_declined=counts[journey.OFFER_DECLINED],
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
        synced=sum(n for _, eligible, n in keys if eligible),
        device_bound=sum(n for _, eligible, n in keys if not eligible),
    )


def _sign_in_figures(conn: Connection, tenant_id: str, signed_in: Sequence[Any]) -> SignInRows:
    """The period's sign-ins read once (a materialized CTE of the few columns the figures
    need, no JSON parsed: method and time are copied from `detail` as the event is written),
    then four aggregates over it in one statement: rows of (section, a, b, c, x, n)."""
    source = (
        select(
            events.c.kind,
            events.c.method,
            events.c.user_agent,
            events.c.user_id,
            events.c.credential_id,
            events.c.elapsed_ms.label("ms"),
        )
        .where(*signed_in)
        .cte("signed")
        .prefix_with("MATERIALIZED")
    )
    text, number = String(), Integer()
    none_text, none_number = cast(null(), text), cast(null(), number)
    # (kind, method, User-Agent, count): methods and platforms.
    agents = select(
        literal("agent", text), source.c.kind, source.c.method, source.c.user_agent,
        none_number, func.count(),
    ).group_by(source.c.kind, source.c.method, source.c.user_agent)  # fmt: skip
    # Who signed in, and how many of them have a passkey (asked once per user).
    who = select(source.c.user_id).distinct().subquery()
    has_passkey = exists().where(
        credentials.c.tenant_id == tenant_id, credentials.c.user_id == who.c.user_id
    )
    users = select(
        literal("users", text), none_text, none_text, none_text, func.count(who.c.user_id),
        func.count(case((has_passkey, 1))),
    )  # fmt: skip
    # Each distinct time to sign in with its count (the ranks are read off in Python).
    times = (
        select(literal("ms", text), none_text, none_text, none_text, source.c.ms, func.count())
        .where(source.c.ms.is_not(None))
        .group_by(source.c.ms)
    )
    # The passkey sign-ins per passkey, then per provider and backup eligibility.
    used = (
        select(source.c.credential_id, func.count().label("n"))
        .where(source.c.kind == kinds.POOL_SIGNED_IN, source.c.credential_id.is_not(None))
        .group_by(source.c.credential_id)
        .subquery()
    )
    keys = (
        select(
            literal("key", text),
            credentials.c.aaguid,
            none_text,
            none_text,
            cast(credentials.c.backup_eligible, number),
            func.sum(used.c.n),
        )
        .select_from(used.join(credentials, credentials.c.id == used.c.credential_id))
        .group_by(credentials.c.aaguid, credentials.c.backup_eligible)
    )
    found = SignInRows()
    for section, a, b, c, x, n in conn.execute(union_all(agents, users, times, keys)):
        if section == "agent":
            found.agents.append((a, b, c, int(n)))
        elif section == "users":
            found.users, found.with_passkey = int(x), int(n)
        elif section == "ms":
            found.times.append((int(x), int(n)))
        else:
            found.keys.append((a, bool(x), int(n)))
    return found


@dataclass
class SignInRows:
    agents: list[tuple[str, Any, str | None, int]] = field(default_factory=list)
    users: int = 0
    with_passkey: int = 0
    times: list[tuple[int, int]] = field(default_factory=list)
    keys: list[tuple[str, bool, int]] = field(default_factory=list)


def _failures(conn: Connection, scope: Sequence[Any]) -> list[Any]:
    """(kind, reason, count) of the sign-in steps' failures."""
    return list(
        conn.execute(
            select(events.c.kind, events.c.reason, func.count())
            .where(*scope, events.c.kind.in_(tuple(STEPS)), events.c.outcome == "failure")
            .group_by(events.c.kind, events.c.reason)
        )
    )


def _milestones(conn: Connection, scope: Sequence[Any]) -> list[Any]:
    """(kind, count) of the page's milestones: read from the index alone (for a tenant)."""
    return list(
        conn.execute(
            select(events.c.kind, func.count())
            .where(*scope, events.c.kind.in_(journey.KINDS), events.c.outcome == "success")
            .group_by(events.c.kind)
        )
    )


def _percentiles(timed: list[tuple[int, int]]) -> dict[int, int]:
    """{percentile: milliseconds} by nearest rank, and {0: how many were timed}, from each
    distinct time's count."""
    timed = sorted(timed)
    total = sum(n for _, n in timed)
    if not total:
        return {}
    # Nearest rank: the smallest time whose running count reaches ceil(total * p / 100).
    wanted = {p: (total * p + 99) // 100 for p in PERCENTILES}
    found: dict[int, int] = {0: total}
    seen = 0
    for ms, n in timed:
        seen += n
        for p, rank in wanted.items():
            if p not in found and seen >= rank:
                found[p] = ms
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
