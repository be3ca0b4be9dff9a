"""What a stretch of a tenant's (or pool's) sign-in events adds up to, before the figures are
named: the parts two stretches combine exactly (counts add, time lists join, user sets
union). A period's tally is its closed days' rollup (services/adoption_rollup.py) plus the
raw events of the rest, read here by SQL (GROUP BY, over the (tenant, kind, time) index)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Connection,
    Integer,
    String,
    cast,
    exists,
    func,
    literal,
    null,
    select,
    union_all,
)

from latchkey import event_kinds as kinds
from latchkey.services import sign_in_journey as journey
from latchkey.store.tables import adoption_user_ordinals, credentials, events

# The events that are a sign-in.
SIGN_IN_KINDS = (kinds.POOL_SIGNED_IN, kinds.POOL_PASSWORD_SIGN_IN, kinds.POOL_RECOVERED)
# Where in a sign-in a failure happened: the step each failing event kind stands for.
STEPS = {
    kinds.PASSKEY_AUTHENTICATION: "passkey",
    kinds.POOL_PASSWORD_SIGN_IN: "password",
    kinds.POOL_RECOVERY_REQUESTED: "recovery_request",
    kinds.POOL_RECOVERED: "recovery_code",
}


@dataclass
class Tally:
    # Sign-ins per (kind, the method its detail said) and per User-Agent string.
    methods: Counter[tuple[str, str | None]] = field(default_factory=Counter)
    agents: Counter[str | None] = field(default_factory=Counter)
    # Failures per (kind, reason); the page's milestones per kind.
    failures: Counter[tuple[str, str | None]] = field(default_factory=Counter)
    milestones: Counter[str] = field(default_factory=Counter)
    # Every timed sign-in's milliseconds from the page's load (in no order).
    times: list[int] = field(default_factory=list)
    # Who signed in, from the events: user id -> (their rollup ordinal if they have one, has
    # a passkey now); from the rollup: a bitmap of ordinals, and of them those with a passkey.
    users: dict[str, tuple[int | None, bool]] = field(default_factory=dict)
    rolled_users: int = 0
    rolled_with_passkey: int = 0
    # Passkey sign-ins per (AAGUID, backup eligible) of the passkey used.
    keys: Counter[tuple[str, bool]] = field(default_factory=Counter)

    def add(self, other: Tally) -> None:
        self.methods.update(other.methods)
        self.agents.update(other.agents)
        self.failures.update(other.failures)
        self.milestones.update(other.milestones)
        self.times.extend(other.times)
        self.users.update(other.users)
        self.rolled_users |= other.rolled_users
        self.rolled_with_passkey |= other.rolled_with_passkey
        self.keys.update(other.keys)

    def distinct_users(self) -> tuple[int, int]:
        """(users who signed in, of them with a passkey now): the rollup's users, and those
        of the events not among them."""
        seen = self.rolled_users
        users, with_passkey = seen.bit_count(), self.rolled_with_passkey.bit_count()
        for ordinal, has_passkey in self.users.values():
            if ordinal is not None:
                if seen >> ordinal & 1:
                    continue
                seen |= 1 << ordinal  # another stretch's events may name them too
            users += 1
            with_passkey += has_passkey
        return users, with_passkey


def scope(tenant_id: str, pool_id: str | None, since: datetime, until: datetime) -> list[Any]:
    where = [events.c.tenant_id == tenant_id, events.c.created_at >= since,
             events.c.created_at < until]  # fmt: skip
    if pool_id is not None:
        where.append(events.c.pool_id == pool_id)  # `detail`'s pool_id, as a column
    return where


def from_events(
    conn: Connection, tenant_id: str, pool_id: str | None, since: datetime, until: datetime
) -> Tally:
    """The tally of the events in [since, until)."""
    where = scope(tenant_id, pool_id, since, until)
    found = _sign_ins(conn, tenant_id, where)
    for kind, reason, n in conn.execute(
        select(events.c.kind, events.c.reason, func.count())
        .where(*where, events.c.kind.in_(tuple(STEPS)), events.c.outcome == "failure")
        .group_by(events.c.kind, events.c.reason)
    ):
        found.failures[(kind, reason)] += n
    # The page's milestones: read from the index alone (for a tenant).
    for kind, n in conn.execute(
        select(events.c.kind, func.count())
        .where(*where, events.c.kind.in_(journey.KINDS), events.c.outcome == "success")
        .group_by(events.c.kind)
    ):
        found.milestones[kind] += n
    return found


def _sign_ins(conn: Connection, tenant_id: str, where: Sequence[Any]) -> Tally:
    """The stretch's sign-ins read once (a materialized CTE of the few columns the figures
    need, no JSON parsed: method and time are copied from `detail` as the event is written),
    then five groupings over it in one statement: rows of (section, a, b, x, n)."""
    source = (
        select(
            events.c.kind,
            events.c.method,
            events.c.user_agent,
            events.c.user_id,
            events.c.credential_id,
            events.c.elapsed_ms.label("ms"),
        )
        .where(*where, events.c.kind.in_(SIGN_IN_KINDS), events.c.outcome == "success")
        .cte("signed")
        .prefix_with("MATERIALIZED")
    )
    text, number = String(), Integer()
    none_text, none_number = cast(null(), text), cast(null(), number)
    methods = select(
        literal("method", text), source.c.kind, source.c.method, none_number, func.count()
    ).group_by(source.c.kind, source.c.method)
    agents = select(
        literal("agent", text), source.c.user_agent, none_text, none_number, func.count()
    ).group_by(source.c.user_agent)
    # Who signed in, whether each has a passkey now (asked once per user), and their ordinal
    # in the rollup if they have one (in the count's place).
    who = select(source.c.user_id).where(source.c.user_id.is_not(None)).distinct().subquery()
    has_passkey = exists().where(
        credentials.c.tenant_id == tenant_id, credentials.c.user_id == who.c.user_id
    )
    known = adoption_user_ordinals
    users = select(
        literal("user", text), who.c.user_id, none_text, cast(has_passkey, number), known.c.ordinal
    ).join_from(
        who, known, (known.c.tenant_id == tenant_id) & (known.c.user_id == who.c.user_id),
        isouter=True,
    )  # fmt: skip
    # Each distinct time to sign in with its count.
    times = (
        select(literal("ms", text), none_text, none_text, source.c.ms, func.count())
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
            cast(credentials.c.backup_eligible, number),
            func.sum(used.c.n),
        )
        .select_from(used.join(credentials, credentials.c.id == used.c.credential_id))
        .group_by(credentials.c.aaguid, credentials.c.backup_eligible)
    )
    found = Tally()
    for section, a, b, x, n in conn.execute(union_all(methods, agents, users, times, keys)):
        if section == "method":
            found.methods[(a, b)] += int(n)
        elif section == "agent":
            found.agents[a] += int(n)
        elif section == "user":
            found.users[a] = (None if n is None else int(n), bool(x))
        elif section == "ms":
            found.times.extend([int(x)] * int(n))
        else:
            found.keys[(a, bool(x))] += int(n)
    return found
