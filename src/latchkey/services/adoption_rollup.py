"""The adoption figures' rollup of closed days (issue 20 §2): for each tenant, pool and UTC
day before today, what the day's sign-in events add up to (services/adoption_tally.py), so a
month's figures read 30 days of small rows and today's events instead of every sign-in.

Written by the retention worker (services/retention.py) before it prunes: each pass rolls up
the days since the last one, and again the REROLL_DAYS before (events a clock behind wrote
after their day was rolled up). A day's events are read first, then its rows replaced in one
short transaction (on SQLite other writers, sign-ins among them, wait only for that), so
rolling up twice leaves the same rows. `rolled_through` says which days are done: the funnel
reads the events of any day after it, so its answer never waits for the worker.

What each figure keeps, exactly as the events give it:
- counts (adoption_day_counts): sign-ins per (kind, method) and per User-Agent string (parsed
  when figures are asked for, as for the events), failures per (kind, reason), milestones,
  passkey sign-ins per (AAGUID, backup eligible): both fixed when a passkey is made.
- sets (adoption_day_sets, packed by services/adoption_sets.py): the users who signed in as a
  bitmap of per-tenant ordinals (a period's users are the union; whether each has a passkey
  is asked when figures are); every timed sign-in's milliseconds (the percentiles are ranked
  over the period's whole list); passkey sign-ins per passkey ordinal. Deleting a user or a
  passkey clears the id of its ordinal row as it does its events' (SET NULL): the figures
  leave the user out, and take the passkey's sign-ins off its provider, as the events' do.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import (
    Connection,
    String,
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
from latchkey.errors import ServiceUnavailable
from latchkey.models import Tenant
from latchkey.runtime import Runtime
from latchkey.services import sign_in_journey as journey
from latchkey.services.adoption_sets import pack_bits, pack_ints, unpack_bits, unpack_ints
from latchkey.services.adoption_tally import SIGN_IN_KINDS, STEPS, Tally, scope
from latchkey.services.worker_loop import loggable
from latchkey.store import tenants as tenant_store
from latchkey.store.tables import (
    adoption_day_counts,
    adoption_day_sets,
    adoption_passkey_ordinals,
    adoption_rollups,
    adoption_user_ordinals,
    credentials,
    events,
    users,
)

log = logging.getLogger(__name__)
# Each pass rolls up these days before its first new one again: an event dated up to two
# days before it is written (a clock behind) is still counted in its day.
REROLL_DAYS = 2
SYNCED, DEVICE_BOUND = "synced", "device_bound"
_ONE_DAY = timedelta(days=1)


def midnight(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


def roll_up(rt: Runtime, *, tenant_id: str | None = None) -> dict[str, int]:
    """Roll up every tenant's closed days not yet rolled up (one tenant's, or all), and the
    REROLL_DAYS before them again; how many days per tenant (a tenant that failed is left
    out, and logged: the next pass tries it again)."""
    now = rt.now().astimezone(UTC)
    with rt.read() as conn:
        found = [t for t in tenant_store.list_all(conn) if tenant_id in (None, t.id)]
    rolled: dict[str, int] = {}
    for tenant in found:
        try:
            rolled[tenant.id] = _roll_up_tenant(rt, tenant, now)
        except ServiceUnavailable:
            raise  # the database is away: the whole pass is tried again
        except Exception as exc:  # e.g. a row deleted meanwhile: no other tenant waits on it
            log.error("rolling up tenant %s's adoption figures failed: %s", tenant.id,
                      loggable(exc))  # fmt: skip
    return rolled


def _roll_up_tenant(rt: Runtime, tenant: Tenant, now: datetime) -> int:
    with rt.read() as conn:
        through = rolled_through(conn, tenant.id)
        day = _first_to_roll(conn, tenant.id, through)
    # A day retention has begun to prune keeps the figures it was rolled up with.
    keep = tenant.event_retention_days
    pruned_before = now - timedelta(days=keep) if keep is not None else None
    rolled = 0
    while day is not None and day < now.date():
        redo = through is not None and day < through
        if not (redo and pruned_before is not None and midnight(day) < pruned_before):
            roll_up_day(rt, tenant.id, day)
            rolled += 1
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
# Ids per IN list when ordinals are handed out (well under every driver's parameter limit).
_CHUNK = 500


@dataclass
class _Day:
    """What a day's events add up to, read before its transaction: the counts' rows; per pool,
    the users' ordinals (or ids, for users that have none yet), the timed sign-ins'
    milliseconds, and the passkey sign-ins per passkey ordinal (or id)."""

    counts: list[dict[str, Any]]
    users: defaultdict[str | None, set[int | str]] = field(default_factory=lambda: defaultdict(set))
    times: defaultdict[str | None, list[int]] = field(default_factory=lambda: defaultdict(list))
    # (ordinal or id, sign-ins, AAGUID, backup eligible) per passkey.
    keys: defaultdict[str | None, list[tuple[int | str, int, str, bool]]] = field(
        default_factory=lambda: defaultdict(list)
    )


def roll_up_day(rt: Runtime, tenant_id: str, day: date) -> None:
    """Replace the tenant's rollup of `day` (UTC) with what its events add up to now: read
    first, then written in one short transaction (on SQLite, other writers wait only for the
    writing). An event written into the day in between is counted by the next pass, as a late
    one is."""
    with rt.read() as conn:
        found = _read_day(conn, tenant_id, day)
    with rt.transaction() as conn:
        _write_day(conn, tenant_id, day, found)


def _read_day(conn: Connection, tenant_id: str, day: date) -> _Day:
    where = scope(tenant_id, None, midnight(day), midnight(day + _ONE_DAY))
    signed = (*where, events.c.kind.in_(SIGN_IN_KINDS), events.c.outcome == "success")
    used = (*signed, events.c.kind == kinds.POOL_SIGNED_IN)
    columns = ("pool_id", "figure", "kind", "name", "n")
    found = _Day([dict(zip(columns, row, strict=True)) for row in conn.execute(_counts(where))])
    # Each join reads the day's events first (grouped in a subquery), then looks each id up:
    # never every ordinal of the tenant with its events.
    who = select(events.c.pool_id, events.c.user_id).where(*signed).distinct().subquery()
    u = adoption_user_ordinals
    for pool, user_id, ordinal in conn.execute(
        select(who.c.pool_id, who.c.user_id, u.c.ordinal)
        .join_from(
            who, u, (u.c.tenant_id == tenant_id) & (u.c.user_id == who.c.user_id), isouter=True
        )
        .where(who.c.user_id.is_not(None))
    ):
        found.users[pool].add(user_id if ordinal is None else ordinal)
    for pool, ms, n in conn.execute(
        select(events.c.pool_id, events.c.elapsed_ms, func.count())
        .where(*signed, events.c.elapsed_ms.is_not(None))
        .group_by(events.c.pool_id, events.c.elapsed_ms)
    ):
        found.times[pool].extend([ms] * n)
    per_key = (
        select(events.c.pool_id, events.c.credential_id, func.count().label("n"))
        .where(*used, events.c.credential_id.is_not(None))
        .group_by(events.c.pool_id, events.c.credential_id)
        .subquery()
    )
    p = adoption_passkey_ordinals
    for pool, key, n, ordinal, aaguid, eligible in conn.execute(
        select(per_key.c.pool_id, per_key.c.credential_id, per_key.c.n, p.c.ordinal,
               credentials.c.aaguid, credentials.c.backup_eligible)
        .join_from(per_key, credentials, credentials.c.id == per_key.c.credential_id)
        .join(p, (p.c.tenant_id == tenant_id) & (p.c.credential_id == per_key.c.credential_id),
              isouter=True)
    ):  # fmt: skip
        found.keys[pool].append((key if ordinal is None else ordinal, n, aaguid, bool(eligible)))
    return found


def _counts(where: Any) -> Any:
    """The day's counts per pool, grouped by the database: (pool, figure, kind, name, n)."""
    text = String()
    none_text = cast(null(), text)
    signed = (*where, events.c.kind.in_(SIGN_IN_KINDS), events.c.outcome == "success")
    pool = events.c.pool_id
    methods = (
        select(pool, literal("method", text), events.c.kind, events.c.method, func.count())
        .where(*signed)
        .group_by(pool, events.c.kind, events.c.method)
    )
    agents = (
        select(pool, literal("agent", text), none_text, events.c.user_agent, func.count())
        .where(*signed)
        .group_by(pool, events.c.user_agent)
    )
    failures = (
        select(pool, literal("failure", text), events.c.kind, events.c.reason, func.count())
        .where(*where, events.c.kind.in_(tuple(STEPS)), events.c.outcome == "failure")
        .group_by(pool, events.c.kind, events.c.reason)
    )
    milestones = (
        select(pool, literal("milestone", text), events.c.kind, none_text, func.count())
        .where(*where, events.c.kind.in_(journey.KINDS), events.c.outcome == "success")
        .group_by(pool, events.c.kind)
    )
    return union_all(methods, agents, failures, milestones)


def _write_day(conn: Connection, tenant_id: str, day: date, found: _Day) -> None:
    conn.execute(_START[conn.dialect.name], {"tenant_id": tenant_id, "next_user": 0,
                                             "next_passkey": 0})  # fmt: skip
    # The tenant's row, locked: two workers rolling up the same tenant take turns (SQLite's
    # writes are one at a time anyway), so ordinals are handed out once.
    state = conn.execute(
        select(adoption_rollups).where(adoption_rollups.c.tenant_id == tenant_id).with_for_update()
    ).one()
    new_users = {i for ids in found.users.values() for i in ids if isinstance(i, str)}
    user_ordinals, next_user = _hand_out(
        conn, tenant_id, adoption_user_ordinals, "user_id", state.next_user, new_users,
        select(users.c.id, literal(None), literal(None)).where(users.c.tenant_id == tenant_id),
    )  # fmt: skip
    new_keys = {k for used in found.keys.values() for k, *_ in used if isinstance(k, str)}
    key_ordinals, next_passkey = _hand_out(
        conn, tenant_id, adoption_passkey_ordinals, "credential_id", state.next_passkey,
        new_keys, select(credentials.c.id, credentials.c.aaguid, credentials.c.backup_eligible)
        .where(credentials.c.tenant_id == tenant_id),
    )  # fmt: skip
    for table in (adoption_day_counts, adoption_day_sets):
        conn.execute(delete(table).where(table.c.tenant_id == tenant_id, table.c.day == day))
    counts = found.counts + _key_counts(found.keys, key_ordinals)
    if counts:
        rows = [{"tenant_id": tenant_id, "day": day, **row} for row in counts]
        conn.execute(insert(adoption_day_counts), rows)
    pools = set(found.users) | set(found.times) | set(found.keys)
    if pools:
        conn.execute(insert(adoption_day_sets), [
            {"tenant_id": tenant_id, "day": day, "pool_id": pool,
             "users": pack_bits(_known(found.users[pool], user_ordinals)),
             "times": pack_ints(sorted(found.times[pool])),
             "passkeys": pack_ints(_pairs(found.keys[pool], key_ordinals))}
            for pool in sorted(pools, key=lambda p: p or "")
        ])  # fmt: skip
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


def _hand_out(
    conn: Connection,
    tenant_id: str,
    table: Any,
    column: str,
    next_free: int,
    ids: set[str],
    existing: Any,
) -> tuple[dict[str, int], int]:
    """Ordinals for these user (or passkey) ids that had none when the day was read: those
    another pass gave them meanwhile, else new ones, for the ids that still exist (`existing`
    selects (id, AAGUID, backup eligible)). The ordinals, and the next free one."""
    ref = table.c[column]
    given: dict[str, int] = {}
    fresh: list[Any] = []
    ordered = sorted(ids)
    for start in range(0, len(ordered), _CHUNK):
        chunk = ordered[start : start + _CHUNK]
        for known, ordinal in conn.execute(
            select(ref, table.c.ordinal).where(table.c.tenant_id == tenant_id, ref.in_(chunk))
        ):
            given[known] = ordinal
        row_id = existing.selected_columns[0]
        fresh.extend(
            row
            for row in conn.execute(existing.where(row_id.in_(chunk)).order_by(row_id))
            if row[0] not in given
        )
    rows = []
    for found_id, aaguid, eligible in fresh:
        given[found_id] = next_free
        row = {"tenant_id": tenant_id, "ordinal": next_free, column: found_id}
        if aaguid is not None:
            row.update(aaguid=aaguid, backup_eligible=eligible)
        rows.append(row)
        next_free += 1
    if rows:
        conn.execute(insert(table), rows)
    return given, next_free


def _known(ids: set[int | str], ordinals: dict[str, int]) -> list[int]:
    """The ordinals of a pool's users (a user deleted since the day was read has none)."""
    return [i if isinstance(i, int) else ordinals[i] for i in ids
            if isinstance(i, int) or i in ordinals]  # fmt: skip


def _ordinal(key: int | str, ordinals: dict[str, int]) -> int | None:
    """A passkey's ordinal (one deleted since the day was read has none: its sign-ins are
    left out, as its events' are)."""
    return key if isinstance(key, int) else ordinals.get(key)


def _pairs(keys: list[tuple[int | str, int, str, bool]], ordinals: dict[str, int]) -> list[int]:
    """(ordinal, sign-ins) of a pool's passkeys, flat and by ordinal."""
    found: dict[int, int] = {}
    for key, n, *_ in keys:
        ordinal = _ordinal(key, ordinals)
        if ordinal is not None:
            found[ordinal] = found.get(ordinal, 0) + n
    return [x for ordinal in sorted(found) for x in (ordinal, found[ordinal])]


def _key_counts(
    keys: dict[str | None, list[tuple[int | str, int, str, bool]]], ordinals: dict[str, int]
) -> list[dict[str, Any]]:
    """The `key` counts: passkey sign-ins per pool, provider and backup eligibility (fixed
    for a passkey's life), of the same passkeys as the pairs."""
    found: dict[tuple[str | None, str, bool], int] = {}
    for pool, used in keys.items():
        for key, n, aaguid, eligible in used:
            if _ordinal(key, ordinals) is not None:
                found[(pool, aaguid, eligible)] = found.get((pool, aaguid, eligible), 0) + n
    return [{"pool_id": pool, "figure": "key", "kind": aaguid,
             "name": SYNCED if eligible else DEVICE_BOUND, "n": n}
            for (pool, aaguid, eligible), n in sorted(found.items(), key=repr)]  # fmt: skip


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
