"""Rate limits for unauthenticated endpoints: fixed windows counted per key (a client IP, a
tenant), in process memory for one worker, or shared by every worker and node: in Redis when
LATCHKEY_REDIS_URL is set, else in the database."""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from latchkey.errors import LatchkeyError
from latchkey.store import rate_limits as rate_limit_store

log = logging.getLogger("latchkey.ratelimit")


class RateLimited(LatchkeyError):
    code = "rate_limited"
    status = 429

    def __init__(self, message: str, retry_after: int, *, first: bool = False) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        # The first refusal of its key in this window: the one worth an event.
        self.first = first


@dataclass(frozen=True)
class Rule:
    """At most `limit` hits per `window` seconds."""

    limit: int
    window: int

    @classmethod
    def parse(cls, text: str) -> Rule:
        """`30/60`: 30 per 60 seconds."""
        count, _, seconds = text.partition("/")
        rule = cls(int(count), int(seconds or 60))
        if rule.limit < 1 or rule.window < 1:
            raise ValueError("a rate limit is two positive integers, LIMIT/SECONDS")
        return rule


# Windows follow the wall clock (Unix seconds), shared by every process that counts; a counter
# takes it as a parameter so that a test can hold or move it.
Clock = Callable[[], float]


class Counter(Protocol):
    clock: Clock
    # Whether a hit waits on a round trip (Redis, a database transaction): then it is counted
    # off the event loop.
    waits: bool

    def incr(self, key: str, window: int) -> int:
        """Count a hit in the current window of `key`; the count so far, this hit included."""
        ...


class MemoryCounter:
    """For one process. Old windows are dropped as new ones start."""

    waits = False

    def __init__(self, clock: Clock = time.time) -> None:
        self.clock = clock
        # key -> [its window, hits in it]: one lookup per hit (every anonymous request counts
        # two keys).
        self._counts: dict[str, list[int]] = {}
        self._lock = threading.Lock()

    def incr(self, key: str, window: int) -> int:
        current = int(self.clock() // window)
        with self._lock:
            counted = self._counts.get(key)
            if counted is None or counted[0] != current:
                counted = self._counts[key] = [current, 0]
                if len(self._counts) > 100_000:  # bound memory under a flood of distinct keys
                    self._drop_stale(window)
            counted[1] += 1
            return counted[1]

    def _drop_stale(self, window: int) -> None:
        current = int(self.clock() // window)
        for key in [k for k, (w, _hits) in self._counts.items() if w != current]:
            del self._counts[key]


class RedisCounter:
    """Shared by every worker and machine that uses the same Redis."""

    waits = True

    def __init__(self, url: str, clock: Clock = time.time) -> None:
        import redis

        self.clock = clock
        self._redis = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)

    def incr(self, key: str, window: int) -> int:
        import redis

        bucket = f"latchkey:rl:{key}:{int(self.clock() // window)}"
        try:
            pipe = self._redis.pipeline()
            pipe.incr(bucket)
            pipe.expire(bucket, window + 1)
            count, _ = pipe.execute()
        except redis.RedisError:
            # Limits are a brake, not a gate: with Redis away, sign-ins go on (and say so).
            log.warning("rate limit store unreachable; not counting %s", key.split(":")[0])
            return 0
        return int(count)


class DatabaseCounter:
    """Shared through the database (PostgreSQL: every node; SQLite: every worker on the
    machine): one short transaction per hit."""

    waits = True

    def __init__(self, engine: Engine, clock: Clock = time.time) -> None:
        self._engine = engine
        self.clock = clock

    def incr(self, key: str, window: int) -> int:
        # The window is stored as its end (Unix seconds), so rows of every rule compare with
        # the clock alike and finished windows are pruned (services/pruning.py).
        current = (int(self.clock() // window) + 1) * window
        try:
            with self._engine.begin() as conn:
                return rate_limit_store.incr(conn, key[:255], current)
        except SQLAlchemyError:
            # As with Redis away: a brake, not a gate (the request then meets the database's
            # own unavailability if it needs it).
            log.warning("rate limit store unreachable; not counting %s", key.split(":")[0])
            return 0


# Told of the first refusal of a key in each window, for a tenant: (tenant id, client IP, what
# was limited). One event per key and window, so a flood cannot turn refusals into writes.
RefusalReport = Callable[[str, str | None, str], None]


# Defaults of LATCHKEY_CHALLENGE_RATE_LIMIT and LATCHKEY_TENANT_RATE_LIMIT.
PER_IP = Rule(120, 60)
# The same endpoints per tenant, whatever the address: a flood from many IPs still stops.
PER_TENANT = Rule(60000, 60)


class Limiter:
    """Counts requests of unauthenticated endpoints: `limit` is the one call every endpoint
    and service makes; `hit` is the single counted key it is built on."""

    def __init__(
        self, counter: Counter, *, per_ip: Rule = PER_IP, per_tenant: Rule = PER_TENANT
    ) -> None:
        self.counter = counter
        self.per_ip = per_ip
        self.per_tenant = per_tenant
        self.on_refused: RefusalReport | None = None

    def limit(
        self,
        surface: str,
        *,
        ip: str | None,
        tenant_id: str | None = None,
        account: str | None = None,
        per_account: Rule | None = None,
    ) -> None:
        """Count one request to `surface` (which names the keys, e.g. "pool"): per client IP
        and, when the tenant is known, per tenant. With `account` (and its `per_account` rule)
        only that account is counted, e.g. password guesses against one user whatever the
        address; the IP and tenant then only name who a refusal is reported for."""
        if account is not None:
            if per_account is None:
                raise ValueError("an account is counted by its own rule")
            self.hit(f"{surface}:{account}", per_account, tenant_id=tenant_id, ip=ip)
            return
        self.hit(f"{surface}:ip:{ip or 'unknown'}", self.per_ip, tenant_id=tenant_id, ip=ip)
        if tenant_id is not None:
            key = f"{surface}:tenant:{tenant_id}"
            self.hit(key, self.per_tenant, tenant_id=tenant_id, ip=ip)

    def hit(
        self, key: str, rule: Rule, *, tenant_id: str | None = None, ip: str | None = None
    ) -> None:
        """Count a hit; over the limit, RateLimited with the seconds until the window ends."""
        count = self.counter.incr(key, rule.window)
        if count > rule.limit:
            retry = math.ceil(rule.window - self.counter.clock() % rule.window)
            first = count == rule.limit + 1
            if first and tenant_id and self.on_refused is not None:
                self._report(tenant_id, ip, key.split(":", 2)[0])
            raise RateLimited(
                "too many requests; slow down", retry_after=max(retry, 1), first=first
            )

    def _report(self, tenant_id: str, ip: str | None, limited: str) -> None:
        # The caller gets its 429 whatever happens to the report (a busy database included).
        assert self.on_refused is not None
        try:
            self.on_refused(tenant_id, ip, limited)
        except Exception:
            log.warning("could not record a rate-limit refusal of %s", limited, exc_info=True)
