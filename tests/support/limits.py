"""Rate limits in tests: the test's runtime with its own in-memory counter and rules."""

from __future__ import annotations

from dataclasses import replace

from latchkey.runtime import Runtime
from latchkey.runtime.ratelimit import Limiter, MemoryCounter, Rule


def with_limits(rt: Runtime, *, per_ip: Rule, per_tenant: Rule | None = None) -> Runtime:
    """The test's runtime with its own counter and rules."""
    return replace(
        rt,
        limiter=Limiter(MemoryCounter(), per_ip=per_ip, per_tenant=per_tenant or Rule(100_000, 60)),
    )
