"""The overview's figures for one tenant: sign-ins and sign-ups per day, success against
failure with the top failure reasons (of the ceremonies and of every other refusal), passkeys
by provider (the AAGUID list) and the share of synced passkeys. Counted by the database
(GROUP BY), so a large event log is never read."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import Connection, func, select

from latchkey.event_kinds import PASSKEY_AUTHENTICATION, PASSKEY_REGISTRATION
from latchkey.runtime import Runtime
from latchkey.services import metadata
from latchkey.store.tables import credentials, events

TOP_REASONS = 6
TOP_PROVIDERS = 6


@dataclass(frozen=True)
class Overview:
    days: list[str]
    sign_ins: list[int]
    sign_ups: list[int]
    successes: int
    failures: int
    # Failures outside the ceremonies: wrong passwords and recovery codes, failed bot checks,
    # rate-limit refusals (the reasons chart counts both).
    refused: int
    reasons: list[tuple[str, int]]
    providers: list[tuple[str, int]]
    synced: int
    device_bound: int

    @property
    def passkeys(self) -> int:
        return self.synced + self.device_bound

    @property
    def synced_share(self) -> int:
        return round(100 * self.synced / self.passkeys) if self.passkeys else 0


def _day(conn: Connection) -> Any:
    if conn.dialect.name == "postgresql":
        return func.date(func.timezone("UTC", events.c.created_at))
    return func.date(events.c.created_at)


def overview(rt: Runtime, tenant_id: str, *, days: int = 30) -> Overview:
    today = rt.now().date()
    first = today - timedelta(days=days - 1)
    since = rt.now() - timedelta(days=days)
    ceremonies = (events.c.tenant_id == tenant_id, events.c.created_at >= since,
                  events.c.kind.in_((PASSKEY_AUTHENTICATION, PASSKEY_REGISTRATION)))  # fmt: skip
    with rt.read() as conn:
        day = _day(conn)
        per_day = conn.execute(
            select(day, events.c.kind, func.count())
            .where(*ceremonies, events.c.outcome == "success")
            .group_by(day, events.c.kind)
        ).all()
        outcomes = conn.execute(
            select(events.c.outcome, events.c.reason, func.count())
            .where(*ceremonies)
            .group_by(events.c.outcome, events.c.reason)
        ).all()
        # Every other refusal: passwords, recovery codes, bot checks, rate limits, OIDC.
        refusals = conn.execute(
            select(events.c.reason, func.count())
            .where(
                *ceremonies[:2],
                events.c.kind.not_in((PASSKEY_AUTHENTICATION, PASSKEY_REGISTRATION)),
            )
            .where(events.c.outcome == "failure")
            .group_by(events.c.reason)
        ).all()
        keys = conn.execute(
            select(credentials.c.aaguid, credentials.c.backup_eligible, func.count())
            .where(credentials.c.tenant_id == tenant_id)
            .group_by(credentials.c.aaguid, credentials.c.backup_eligible)
        ).all()
    labels = [(first + timedelta(days=i)).isoformat() for i in range(days)]
    counts = {(str(d)[:10], kind): n for d, kind, n in per_day}
    return Overview(
        days=labels,
        sign_ins=[counts.get((d, PASSKEY_AUTHENTICATION), 0) for d in labels],
        sign_ups=[counts.get((d, PASSKEY_REGISTRATION), 0) for d in labels],
        successes=sum(n for outcome, _, n in outcomes if outcome == "success"),
        failures=sum(n for outcome, _, n in outcomes if outcome == "failure"),
        refused=sum(n for _, n in refusals),
        reasons=_top(_failure_reasons(outcomes, refusals), TOP_REASONS),
        providers=_providers(keys, lambda aaguid: metadata.name_of(rt, aaguid)),
        synced=sum(n for _, eligible, n in keys if eligible),
        device_bound=sum(n for _, eligible, n in keys if not eligible),
    )


def _failure_reasons(outcomes: Sequence[Any], refusals: Sequence[Any]) -> Counter[str]:
    found: Counter[str] = Counter()
    for outcome, reason, n in outcomes:
        if outcome == "failure":
            found[reason or "unknown"] += n
    for reason, n in refusals:
        found[reason or "unknown"] += n
    return found


def _providers(keys: Sequence[Any], name_of: Callable[[str], str | None]) -> list[tuple[str, int]]:
    named: Counter[str] = Counter()
    for aaguid, _, n in keys:
        named[name_of(aaguid) or "Unknown provider"] += n
    return _top(named, TOP_PROVIDERS)


def _top(counts: Counter[str], size: int) -> list[tuple[str, int]]:
    """The largest `size - 1` and the rest as "Other", so the chart stays readable."""
    ranked = counts.most_common()
    if len(ranked) <= size:
        return ranked
    head = ranked[: size - 1]
    return [*head, ("Other", sum(n for _, n in ranked[size - 1 :]))]


def chart(kind: str, labels: list[str], **series: list[int]) -> dict[str, Any]:
    """A chart's spec for portal.js (type, labels, named data series)."""
    return {
        "type": kind,
        "data": {
            "labels": labels,
            "datasets": [{"label": name, "data": data} for name, data in series.items()],
        },
    }
