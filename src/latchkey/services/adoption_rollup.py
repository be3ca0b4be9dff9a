"""The adoption figures' rollup of closed days (issue 20 §2): for each tenant, pool and UTC
day before today, what the day's sign-in events add up to (services/adoption_tally.py), so a
month's figures read 30 days of small rows and today's events instead of every sign-in.

Written by the retention worker (services/retention.py) before it prunes: each pass rolls up
the days since the last one, and again the REROLL_DAYS before (events a clock behind wrote
after their day was rolled up); each day in one transaction that replaces the day's rows, so
rolling up twice leaves the same rows. `rolled_through` says which days are done: the funnel
reads the events of any day after it, so its answer never waits for the worker.

What each figure keeps, exactly as the events give it:
- counts (adoption_day_counts): sign-ins per (kind, method) and per User-Agent string (parsed
  when figures are asked for, as for the events), failures per (kind, reason), milestones.
- sets (adoption_day_sets, packed by services/adoption_sets.py): the users who signed in as a
  bitmap of per-tenant ordinals (a period's users are the union; whether each has a passkey
  is asked when figures are); every timed sign-in's milliseconds (the percentiles are ranked
  over the period's whole list); passkey sign-ins per passkey ordinal (its provider and backup
  eligibility are read when figures are). An ordinal row goes with its user or passkey, so a
  deleted one drops out as it does from the events (their user and passkey are SET NULL).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import (
    Connection,
    String,
    case,
    cast,
    delete,
    exists,
    func,
    insert,
    literal,
    null,
    select,
    union_all,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite

from latchkey import event_kinds as kinds
from latchkey.runtime import Runtime
from latchkey.services import sign_in_journey as journey
from latchkey.services.adoption_sets import pack_bits, pack_ints, unpack_bits, unpack_ints
from latchkey.services.adoption_tally import SIGN_IN_KINDS, STEPS, Tally, scope
from latchkey.store import tenants as tenant_store
from latchkey.store.tables import (
    adoption_day_counts,
    adoption_day_sets,
    adoption_passkey_ordinals,
    adoption_rollups,
    adoption_user_ordinals,
    credentials,
    events,
)

# Each pass rolls up these days before its first new one again: an event dated up to two
# days before it is written (a clock behind) is still counted in its day.
REROLL_DAYS = 2
SYNCED, DEVICE_BOUND = "synced", "device_bound"
_ONE_DAY = timedelta(days=1)


def midnight(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


def roll_up(rt: Runtime, *, tenant_id: str | None = None) -> dict[str, int]:
    """Roll up every tenant's closed days not yet rolled up (one tenant's, or all), and the
    REROLL_DAYS before them again; how many days per tenant."""
    now = rt.now().astimezone(UTC)
    with rt.read() as conn:
        found = [t for t in tenant_store.list_all(conn) if tenant_id in (None, t.id)]
    rolled: dict[str, int] = {}
    for tenant in found:
        with rt.read() as conn:
            through = rolled_through(conn, tenant.id)
            day = _first_to_roll(conn, tenant.id, through)
        # A day retention has begun to prune keeps the figures it was rolled up with.
        keep = tenant.event_retention_days
        pruned_before = now - timedelta(days=keep) if keep is not None else None
        rolled[tenant.id] = 0
        while day is not None and day < now.date():
            redo = through is not None and day < through
            if not (redo and pruned_before is not None and midnight(day) < pruned_before):
                with rt.transaction() as conn:
                    roll_up_day(conn, tenant.id, day)
                rolled[tenant.id] += 1
            day += _ONE_DAY
    return rolled


def _first_to_roll(conn: Connection, tenant_id: str, through: date | None) -> date | None:
    if through is not None:
        return through - timedelta(days=REROLL_DAYS)
    first = conn.execute(
        select(func.min(events.c.created_at)).where(events.c.tenant_id == tenant_id)
    ).scalar()
    return first.astimezone(UTC).date() if first is not None else None


def rolled_through(conn: Connection, tenant_id: str) -> date | None:
    """The days before this one are rolled up (None: none is)."""
    found: date | None = conn.execute(
        select(adoption_rollups.c.rolled_through).where(adoption_rollups.c.tenant_id == tenant_id)
    ).scalar()
    return found


_START = {
    "sqlite": sqlite.insert(adoption_rollups).on_conflict_do_nothing(),
    "postgresql": postgresql.insert(adoption_rollups).on_conflict_do_nothing(),
}


def roll_up_day(conn: Connection, tenant_id: str, day: date) -> None:
    """Replace the tenant's rollup of `day` (UTC) with what its events add up to now, in the
    caller's transaction."""
    conn.execute(_START[conn.dialect.name], {"tenant_id": tenant_id, "next_user": 0,
                                             "next_passkey": 0})  # fmt: skip
    # The tenant's row, locked: two workers rolling up the same tenant take turns (SQLite's
    # writes are one at a time anyway), so ordinals are handed out once.
    state = conn.execute(
        select(adoption_rollups).where(adoption_rollups.c.tenant_id == tenant_id).with_for_update()
    ).one()
    for table in (adoption_day_counts, adoption_day_sets):
        conn.execute(delete(table).where(table.c.tenant_id == tenant_id, table.c.day == day))
    where = scope(tenant_id, None, midnight(day), midnight(day + _ONE_DAY))
    signed = (*where, events.c.kind.in_(SIGN_IN_KINDS), events.c.outcome == "success")
    _count(conn, tenant_id, day, where, signed)
    next_user = _user_ordinals(conn, tenant_id, state.next_user, signed)
    used = (*signed, events.c.kind == kinds.POOL_SIGNED_IN)
    next_passkey = _passkey_ordinals(conn, tenant_id, state.next_passkey, used)
    _sets(conn, tenant_id, day, signed, used)
    through = state.rolled_through
    conn.execute(
        update(adoption_rollups)
        .where(adoption_rollups.c.tenant_id == tenant_id)
        .values(
            rolled_through=max(through, day + _ONE_DAY) if through else day + _ONE_DAY,
            next_user=next_user,
            next_passkey=next_passkey,
        )
    )


def _count(conn: Connection, tenant_id: str, day: date, where: Any, signed: Any) -> None:
    """The day's counts, grouped by the database straight into adoption_day_counts."""
    text = String()
    none_text = cast(null(), text)
    fixed = (literal(tenant_id, text), literal(day), events.c.pool_id)
    methods = select(*fixed, literal("method", text), events.c.kind, events.c.method,
                     func.count()).where(*signed)  # fmt: skip
    methods = methods.group_by(events.c.pool_id, events.c.kind, events.c.method)
    agents = select(*fixed, literal("agent", text), none_text, events.c.user_agent,
                    func.count()).where(*signed)  # fmt: skip
    agents = agents.group_by(events.c.pool_id, events.c.user_agent)
    failures = (
        select(*fixed, literal("failure", text), events.c.kind, events.c.reason, func.count())
        .where(*where, events.c.kind.in_(tuple(STEPS)), events.c.outcome == "failure")
        .group_by(events.c.pool_id, events.c.kind, events.c.reason)
    )
    milestones = (
        select(*fixed, literal("milestone", text), events.c.kind, none_text, func.count())
        .where(*where, events.c.kind.in_(journey.KINDS), events.c.outcome == "success")
        .group_by(events.c.pool_id, events.c.kind)
    )
    # Passkey sign-ins per provider and backup eligibility (fixed for a passkey's life).
    synced = case((credentials.c.backup_eligible, SYNCED), else_=DEVICE_BOUND)
    keys = (
        select(*fixed, literal("key", text), credentials.c.aaguid, synced, func.count())
        .join_from(events, credentials, credentials.c.id == events.c.credential_id)
        .where(*signed, events.c.kind == kinds.POOL_SIGNED_IN)
        .group_by(events.c.pool_id, credentials.c.aaguid, credentials.c.backup_eligible)
    )
    columns = ["tenant_id", "day", "pool_id", "figure", "kind", "name", "n"]
    conn.execute(
        insert(adoption_day_counts).from_select(
            columns, union_all(methods, agents, failures, milestones, keys)
        )
    )


def _user_ordinals(conn: Connection, tenant_id: str, next_free: int, signed: Any) -> int:
    """An ordinal for each user of these sign-ins who has none; the next free ordinal."""
    u = adoption_user_ordinals
    fresh = (
        conn.execute(
            select(events.c.user_id)
            .distinct()
            .where(*signed, events.c.user_id.is_not(None))
            .where(~exists().where(u.c.tenant_id == tenant_id, u.c.user_id == events.c.user_id))
            .order_by(events.c.user_id)
        )
        .scalars()
        .all()
    )
    if fresh:
        rows = [{"tenant_id": tenant_id, "ordinal": next_free + i, "user_id": user_id}
                for i, user_id in enumerate(fresh)]  # fmt: skip
        conn.execute(insert(u), rows)
    return next_free + len(fresh)


def _passkey_ordinals(conn: Connection, tenant_id: str, next_free: int, used: Any) -> int:
    """An ordinal for each passkey of these sign-ins that has none, with its provider and
    backup eligibility; the next free ordinal."""
    p = adoption_passkey_ordinals
    fresh = conn.execute(
        select(credentials.c.id, credentials.c.aaguid, credentials.c.backup_eligible)
        .distinct()
        .join_from(events, credentials, credentials.c.id == events.c.credential_id)
        .where(*used)
        .where(~exists().where(p.c.tenant_id == tenant_id, p.c.credential_id == credentials.c.id))
        .order_by(credentials.c.id)
    ).all()
    if fresh:
        conn.execute(insert(p), [
            {"tenant_id": tenant_id, "ordinal": next_free + i, "credential_id": key,
             "aaguid": aaguid, "backup_eligible": eligible}
            for i, (key, aaguid, eligible) in enumerate(fresh)
        ])  # fmt: skip
    return next_free + len(fresh)


def _sets(conn: Connection, tenant_id: str, day: date, signed: Any, used: Any) -> None:
    """Per pool: the users' ordinals, the timed sign-ins' milliseconds (sorted), the passkey
    ordinals with their sign-ins."""
    users: defaultdict[str | None, set[int]] = defaultdict(set)
    times: defaultdict[str | None, list[int]] = defaultdict(list)
    keys: defaultdict[str | None, list[int]] = defaultdict(list)
    # Each join reads the day's events first (grouped in a subquery), then looks each id up:
    # never every ordinal of the tenant with its events.
    who = select(events.c.pool_id, events.c.user_id).where(*signed).distinct().subquery()
    u = adoption_user_ordinals
    for pool, ordinal in conn.execute(
        select(who.c.pool_id, u.c.ordinal).join_from(
            who, u, (u.c.tenant_id == tenant_id) & (u.c.user_id == who.c.user_id)
        )
    ):
        users[pool].add(ordinal)
    for pool, ms, n in conn.execute(
        select(events.c.pool_id, events.c.elapsed_ms, func.count())
        .where(*signed, events.c.elapsed_ms.is_not(None))
        .group_by(events.c.pool_id, events.c.elapsed_ms)
    ):
        times[pool].extend([ms] * n)
    per_key = (
        select(events.c.pool_id, events.c.credential_id, func.count().label("n"))
        .where(*used)
        .group_by(events.c.pool_id, events.c.credential_id)
        .subquery()
    )
    p = adoption_passkey_ordinals
    for pool, ordinal, n in conn.execute(
        select(per_key.c.pool_id, p.c.ordinal, per_key.c.n).join_from(
            per_key,
            p,
            (p.c.tenant_id == tenant_id) & (p.c.credential_id == per_key.c.credential_id),
        )
    ):
        keys[pool].extend((ordinal, n))
    pools = set(users) | set(times) | set(keys)
    if pools:
        conn.execute(insert(adoption_day_sets), [
            {"tenant_id": tenant_id, "day": day, "pool_id": pool,
             "users": pack_bits(users[pool]), "times": pack_ints(sorted(times[pool])),
             "passkeys": pack_ints(keys[pool])}
            for pool in sorted(pools, key=lambda p: p or "")
        ])  # fmt: skip


def from_rollup(
    conn: Connection, tenant_id: str, pool_id: str | None, first: date, last: date
) -> Tally:
    """The tally of the rolled-up days from `first` to before `last`."""
    found = Tally()
    c = adoption_day_counts
    where = [c.c.tenant_id == tenant_id, c.c.day >= first, c.c.day < last]
    if pool_id is not None:
        where.append(c.c.pool_id == pool_id)
    for figure, kind, name, n in conn.execute(
        select(c.c.figure, c.c.kind, c.c.name, func.sum(c.c.n))
        .where(*where)
        .group_by(c.c.figure, c.c.kind, c.c.name)
    ):
        if figure == "method":
            found.methods[(kind, name)] += int(n)
        elif figure == "agent":
            found.agents[name] += int(n)
        elif figure == "failure":
            found.failures[(kind, name)] += int(n)
        elif figure == "milestone":
            found.milestones[kind] += int(n)
        else:
            found.keys[(kind, name == SYNCED)] += int(n)
    s = adoption_day_sets
    where = [s.c.tenant_id == tenant_id, s.c.day >= first, s.c.day < last]
    if pool_id is not None:
        where.append(s.c.pool_id == pool_id)
    gone = _gone_passkeys(conn, tenant_id)
    users = 0
    for packed_users, packed_times, packed_keys in conn.execute(
        select(s.c.users, s.c.times, s.c.passkeys).where(*where)
    ):
        users |= unpack_bits(packed_users)
        found.times.extend(unpack_ints(packed_times))
        if gone:  # a deleted passkey's sign-ins leave the figures, as they leave the events'
            pairs = unpack_ints(packed_keys)
            for ordinal, n in zip(pairs[::2], pairs[1::2], strict=True):
                if ordinal in gone:
                    found.keys[gone[ordinal]] -= n
    found.keys = +found.keys  # without the providers left at 0
    if users:
        found.rolled_users, found.rolled_with_passkey = _users(conn, tenant_id, users)
    return found


def _gone_passkeys(conn: Connection, tenant_id: str) -> dict[int, tuple[str, bool]]:
    """The deleted passkeys' ordinals, with their provider and backup eligibility."""
    p = adoption_passkey_ordinals
    return {
        ordinal: (aaguid, bool(eligible))
        for ordinal, aaguid, eligible in conn.execute(
            select(p.c.ordinal, p.c.aaguid, p.c.backup_eligible).where(
                p.c.tenant_id == tenant_id, p.c.credential_id.is_(None)
            )
        )
    }


def _users(conn: Connection, tenant_id: str, bits: int) -> tuple[int, int]:
    """Of these ordinals, the users that still exist, and of them those with a passkey now,
    as bitmaps."""
    u = adoption_user_ordinals
    gone = conn.execute(
        select(u.c.ordinal).where(u.c.tenant_id == tenant_id, u.c.user_id.is_(None))
    ).scalars()
    users = bits & ~_bitmap(gone)
    # A user's passkeys are their tenant's: the user_id index alone answers.
    has_passkey = exists().where(credentials.c.user_id == u.c.user_id)
    holders = conn.execute(
        select(u.c.ordinal).where(
            u.c.tenant_id == tenant_id,
            u.c.user_id.is_not(None),
            u.c.ordinal < bits.bit_length(),
            has_passkey,
        )
    ).scalars()
    return users, users & _bitmap(holders)


def _bitmap(ordinals: Iterable[int]) -> int:
    return unpack_bits(pack_bits(ordinals))


def prune(conn: Connection, tenant_id: str, older_than: datetime) -> None:
    """Forget the rolled-up days wholly before `older_than` (the tenant's retention): a day
    goes with the last of its events, and until then keeps all of its figures."""
    last = (older_than.astimezone(UTC) - _ONE_DAY).date()
    for table in (adoption_day_counts, adoption_day_sets):
        conn.execute(delete(table).where(table.c.tenant_id == tenant_id, table.c.day <= last))
