"""Event retention: each tenant may keep its event log for a number of days; a pruning job
(a background thread under `latchkey serve`, or `latchkey events prune`) deletes what is older,
with the finished webhook deliveries of that age and the adoption rollup's days wholly that old.
The same thread first rolls up the adoption figures of the days that have closed
(services/adoption_rollup.py), and prunes expired challenges, flows, sessions and links
(services/pruning.py)."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime, timedelta

from latchkey.errors import InvalidRequest, TenantNotFound
from latchkey.models import Tenant
from latchkey.runtime import Runtime
from latchkey.services import adoption_rollup, pruning, webhooks
from latchkey.services.worker_loop import LoopedWorker, WorkerLoop, loggable
from latchkey.store import events as event_store
from latchkey.store import tenants as tenant_store

log = logging.getLogger(__name__)
MAX_DAYS = 3650
BATCH = 1000
PRUNE_EVERY_SECONDS = 3600.0


def set_retention(rt: Runtime, tenant_id: str, days: int | None) -> Tenant:
    """Keep the tenant's events `days` days (None: for ever)."""
    if days is not None and (isinstance(days, bool) or not 1 <= days <= MAX_DAYS):
        raise InvalidRequest(f"event retention is 1 to {MAX_DAYS} days, or null to keep all")
    with rt.transaction() as conn:
        tenant = tenant_store.get(conn, tenant_id)
        if tenant is None:
            raise TenantNotFound(f"no tenant {tenant_id!r}")
        changed = replace(tenant, event_retention_days=days, updated_at=rt.now())
        tenant_store.save(conn, changed)
    rt.cache("tenants").forget(tenant_id)
    return changed


def prune(rt: Runtime, *, tenant_id: str | None = None) -> dict[str, int]:
    """Delete events past each tenant's retention (one tenant's, or all); how many per tenant.
    Batches of BATCH rows, each its own short transaction, so sign-ins are never held up."""
    with rt.read() as conn:
        found = tenant_store.list_all(conn)
    pruned: dict[str, int] = {}
    for tenant in found:
        if tenant.event_retention_days is None or tenant_id not in (None, tenant.id):
            continue
        keep = timedelta(days=tenant.event_retention_days)
        older_than = rt.now() - keep
        pruned[tenant.id] = _prune_tenant(rt, tenant.id, older_than)
        with rt.transaction() as conn:
            adoption_rollup.prune(conn, tenant.id, older_than)
        webhooks.prune(rt, older_than=keep, tenant_id=tenant.id)
    return pruned


def _prune_tenant(rt: Runtime, tenant_id: str, older_than: datetime) -> int:
    total = 0
    while True:
        with rt.transaction() as conn:
            gone = event_store.prune(conn, tenant_id, older_than, batch=BATCH)
        total += gone
        if gone < BATCH:
            return total


class RetentionWorker(LoopedWorker):
    """Prunes every `every_seconds` from a daemon thread (each process may run one: deleting
    what another already deleted is harmless)."""

    def __init__(self, rt: Runtime, *, every_seconds: float = PRUNE_EVERY_SECONDS) -> None:
        self.rt = rt
        self.every_seconds = every_seconds
        # A first pass soon after start, so a server restarted often still prunes.
        self._loop = WorkerLoop(
            "latchkey-retention",
            self.run_once,
            every=every_seconds,
            log=log,
            what="pruning",
            first_after=min(60.0, every_seconds),
        )

    def run_once(self) -> None:
        """One pass: the adoption rollup of closed days (before their events can go), events
        past retention, then every expired unauthenticated write."""
        try:
            rolled = adoption_rollup.roll_up(self.rt)
        except Exception as exc:  # e.g. the database is down: try again next time
            log.error("rolling up adoption figures failed: %s", loggable(exc))
        else:
            if any(rolled.values()):
                log.debug("rolled up %d days of adoption figures", sum(rolled.values()))
        for what, job in (("events", prune), ("expired rows", pruning.prune_expired)):
            try:
                pruned = job(self.rt)
            except Exception as exc:  # e.g. the database is down: try again next time
                log.error("pruning %s failed: %s", what, loggable(exc))
                continue
            if any(pruned.values()):
                log.info("pruned %d %s", sum(pruned.values()), what)
