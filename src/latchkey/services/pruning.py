"""Pruning what unauthenticated callers leave behind: expired challenges (stored, and the
used keys of sealed ones), flows, bot-check spends, authorization codes, portal challenges,
sessions, one-time links, tokens, refresh tokens, finished rate-limit windows and delivered or
abandoned mail. Every row here is written by a request anyone may make (or by a sign-in, each
refresh rotating in a new row), so without this the tables grow for ever (issue 21 item 8). Run
by the background worker of `latchkey serve` (services/retention.py).

Rows are kept for GRACE after they expire (or end), so a late or replayed answer still meets
its row and is told "expired" or "already used", and a code replay can still revoke what the
code issued; only then are they deleted. A refresh token is refused once expired or revoked
(oauth2/refresh_grant.py checks that before reuse detection), so deleting it then changes no
answer; a used one that is still live stays, since presenting it again revokes its family.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Table, and_, or_

from latchkey.runtime import Runtime
from latchkey.services import sealed_challenges
from latchkey.store import expired, mail_outbox
from latchkey.store import tables as t

GRACE = timedelta(days=1)
# Abandoned mail stays longer, with its last error, for an operator to look at.
ABANDONED_MAIL_KEPT = timedelta(days=7)
BATCH = 1000


# Each table and the columns, besides `expires_at`, that end a row early (used, revoked).
# Children first where a foreign key names the parent (recovery codes -> flows, codes ->
# sessions), so each delete stays a plain one.
_TABLES: tuple[tuple[Table, tuple[str, ...]], ...] = (
    (t.recovery_codes, ("used_at",)),
    (t.flows, ()),
    (t.challenges, ()),
    (t.tokens, ()),
    (t.authorization_codes, ()),
    (t.sso_sessions, ("revoked_at",)),
    (t.operator_enrolments, ("used_at",)),
    (t.portal_sessions, ("revoked_at",)),
    (t.refresh_tokens, ("revoked_at",)),
)


def _targets(now: datetime, unix_now: float) -> Iterator[tuple[Table, ColumnElement[bool]]]:
    before = now - GRACE
    for table, ends in _TABLES:
        yield table, or_(table.c.expires_at < before, *(table.c[name] < before for name in ends))
    # A spend's expiry already carries its own grace (services/pools/botcheck.py).
    yield t.botcheck_spent, t.botcheck_spent.c.expires_at < now
    # Rate-limit counts whose window has ended (the window's end in Unix seconds, by the wall
    # clock the runtime's counter reads): one row per client address otherwise, for ever.
    yield t.rate_limits, t.rate_limits.c.window < int(unix_now)
    # Used sealed challenge ids: their key begins with their expiry, so a range of keys.
    yield t.used_challenges, t.used_challenges.c.id < sealed_challenges.key_before(before)
    # Mail delivered (its bodies already blanked), or given up on: its last attempt is long past.
    # A day outlasts the recovery mail limit's window, which counts the rows (recovery_limits).
    mail = t.mail_outbox.c
    given_up = and_(
        mail.sent_at.is_(None),
        mail.attempts >= mail_outbox.MAX_ATTEMPTS,
        mail.next_attempt_at < now - ABANDONED_MAIL_KEPT,
    )
    yield t.mail_outbox, or_(mail.sent_at < before, given_up)


def prune_expired(rt: Runtime, *, batch: int = BATCH) -> dict[str, int]:
    """Delete every row past its use (plus GRACE); how many per table. Each batch is its own
    short transaction, so sign-ins are never held up behind a large delete."""
    now = rt.now()
    pruned: dict[str, int] = {}
    for table, condition in _targets(now, rt.limiter.counter.clock()):
        key = next(iter(table.primary_key.columns))
        total = 0
        while True:
            with rt.transaction() as conn:
                gone = expired.delete_batch(conn, table, key, condition, batch)
            total += gone
            if gone < batch:
                break
        pruned[table.name] = total
    return pruned
