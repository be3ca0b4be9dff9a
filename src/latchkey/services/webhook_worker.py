"""The background worker that drains the webhook outbox.

Each delivery is claimed (leased) in one transaction, POSTed with no transaction open, then its
attempt is logged and it is marked delivered (any 2xx) or scheduled for a retry in another.
A crash anywhere in between leaves the row leased: another worker, or this one after a restart,
takes it over when the lease ends, so nothing is lost; the rare second POST carries the same
event id, for receivers to recognise. Several processes may each run a worker on one database;
a worker may run several threads, so one slow receiver does not hold up the others.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx

from latchkey import __version__
from latchkey.config import Settings
from latchkey.errors import LatchkeyError
from latchkey.runtime import Runtime
from latchkey.services import webhooks
from latchkey.services.worker_loop import Chore, LoopedWorker, WorkerLoop
from latchkey.store import webhook_outbox as outbox
from latchkey.webhooks import network, signing
from latchkey.webhooks.models import Claimed

logger = logging.getLogger(__name__)

DEFAULT_POLL_SECONDS = 2.0
DEFAULT_TIMEOUT_SECONDS = 10.0
DEFAULT_CONCURRENCY = 4
# Far longer than a POST may take (each phase is cut off after the timeout), so a delivery being
# made is not taken over by another worker.
DEFAULT_LEASE_SECONDS = 120.0
USER_AGENT = f"Latchkey-Webhooks/{__version__}"
# Finished deliveries and their attempts are kept this long (the delivery log), then pruned.
LOG_KEPT_FOR = timedelta(days=30)
PRUNE_EVERY_SECONDS = 3600.0


@dataclass(frozen=True)
class Drained:
    """What one pass over the outbox did."""

    delivered: int = 0
    failed: int = 0


def make_client(timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS) -> httpx.Client:
    """The HTTP client deliveries go out with: redirects are not followed (a 3xx is a failed
    attempt), and the environment (proxy variables, .netrc credentials) is not consulted."""
    return httpx.Client(
        timeout=httpx.Timeout(timeout_seconds),
        follow_redirects=False,
        trust_env=False,
        headers={"User-Agent": USER_AGENT},
    )


class WebhookWorker(LoopedWorker):
    """Drains the outbox from background threads (start/stop) or on demand (drain_once)."""

    def __init__(
        self,
        rt: Runtime,
        *,
        client: httpx.Client | None = None,
        poll_seconds: float = DEFAULT_POLL_SECONDS,
        lease_seconds: float = DEFAULT_LEASE_SECONDS,
        timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
        concurrency: int = DEFAULT_CONCURRENCY,
        allow_private: bool = False,
        prune_every_seconds: float = PRUNE_EVERY_SECONDS,
    ) -> None:
        self.rt = rt
        self.allow_private = allow_private
        self.prune_every_seconds = prune_every_seconds
        self.client = client or make_client(timeout_seconds)
        self.poll_seconds = poll_seconds
        self.lease_seconds = lease_seconds
        self.concurrency = max(1, concurrency)
        # The first thread polls; the others sleep until it finds work, so an idle worker costs
        # one read per poll interval whatever its concurrency.
        self._loop = WorkerLoop(
            "latchkey-webhooks",
            lambda: self.drain_once(),
            every=poll_seconds,
            log=logger,
            what="webhook outbox pass",
            threads=self.concurrency,
            chores=[Chore("webhook delivery log pruning", prune_every_seconds, self._prune)],
        )

    def drain_once(self) -> Drained:
        """Make every delivery due now, one at a time; stops early (or does nothing) once stop()
        has been called."""
        delivered = failed = 0
        with self.rt.read() as conn:  # an idle pass takes no write lock
            if not outbox.any_due(conn, self.rt.now()):
                return Drained()
        self._loop.found()  # the other threads help with what was found
        while not self._loop.stopping:
            with self.rt.transaction() as conn:
                claimed = outbox.claim_due(conn, self.rt.now(), self.lease_seconds, limit=1)
            if not claimed:
                break
            if self._deliver(claimed[0]):
                delivered += 1
            else:
                failed += 1
        return Drained(delivered=delivered, failed=failed)

    def _deliver(self, item: Claimed) -> bool:
        attempted_at = self.rt.now()
        try:
            secrets = webhooks.signing_secrets(self.rt, item)
        except LatchkeyError as exc:  # sealed under another master key: retried, it may be fixed
            return self._finish(item, attempted_at, None, exc.message, 0)
        body = item.payload.encode("utf-8")
        headers = {
            "Content-Type": "application/json",
            signing.HEADER: signing.signature_header(secrets, int(attempted_at.timestamp()), body),
            "X-Latchkey-Delivery": item.id,
            "X-Latchkey-Attempt": str(item.attempts),
        }
        started = time.monotonic()
        status, error = self._post(item.url, body, headers)
        duration_ms = int((time.monotonic() - started) * 1000)
        return self._finish(item, attempted_at, status, error, duration_ms)

    def _post(
        self, url: str, body: bytes, headers: dict[str, str]
    ) -> tuple[int | None, str | None]:
        """(HTTP status, error): error None means delivered."""
        try:
            target, host, tls = network.pinned(url, allow_private=self.allow_private)
        except network.Refused as exc:
            return None, str(exc)
        try:
            # Streamed and closed unread: a receiver's answer is its status, whatever its size.
            with self.client.stream(
                "POST", target, content=body, headers={**headers, **host}, extensions=tls
            ) as response:
                status = response.status_code
        except httpx.TimeoutException as exc:
            return None, f"timed out ({type(exc).__name__})"
        except Exception as exc:  # refused, reset, TLS, a bad URL: retried like any failure
            return None, f"{type(exc).__name__}: {exc}"
        if 200 <= status < 300:
            return status, None
        if 300 <= status < 400:
            return status, f"HTTP {status}: redirects are not followed"
        return status, f"HTTP {status}"

    def _finish(
        self,
        item: Claimed,
        attempted_at: datetime,
        status: int | None,
        error: str | None,
        duration_ms: int,
    ) -> bool:
        now = self.rt.now()
        retry_at = now + outbox.retry_delay(item.attempts)
        with self.rt.transaction() as conn:
            outbox.record_attempt(
                conn,
                item.id,
                attempt=item.attempts,
                attempted_at=attempted_at,
                status=status,
                error=error,
                duration_ms=duration_ms,
            )
            if error is None:
                outbox.mark_delivered(conn, item.id, now, status or 200)
            else:
                outbox.mark_failed(
                    conn,
                    item.id,
                    status=status,
                    error=error,
                    next_attempt_at=retry_at,
                    leased_until=item.leased_until,
                )
        if error is None:
            logger.info("webhook %s delivered (attempt %d)", item.id, item.attempts)
            return True
        last = item.attempts >= outbox.MAX_ATTEMPTS
        # The endpoint's URL is not logged: some carry a token in their path or query.
        logger.warning(
            "webhook %s to endpoint %s: attempt %d failed%s: %s",
            item.id,
            item.endpoint_id,
            item.attempts,
            ", giving up" if last else f", retrying at {retry_at.isoformat()}",
            error,
        )
        return False

    def _prune(self) -> None:
        pruned = webhooks.prune(self.rt, older_than=LOG_KEPT_FOR)
        if pruned:
            logger.info("pruned %d finished webhook deliveries", pruned)


def build_worker(rt: Runtime, settings: Settings) -> WebhookWorker | None:
    """The worker the server runs: None when LATCHKEY_WEBHOOKS is off (the outbox then only
    fills, for another node's worker to drain)."""
    if not settings.webhooks:
        return None
    return WebhookWorker(
        rt,
        poll_seconds=settings.webhook_poll_seconds,
        allow_private=settings.webhook_private_networks == "allow",
    )
