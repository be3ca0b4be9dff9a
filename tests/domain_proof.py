"""Prove a tenant's domain in a test: its TXT record published to a stand-in resolver."""

from __future__ import annotations

from latchkey.runtime import Runtime
from latchkey.services import domains


def prove(rt: Runtime, tenant_id: str, domain: str) -> None:
    [status] = [s for s in domains.statuses(rt, tenant_id) if s.domain == domain]
    published = {status.record_name: [status.value]}
    domains.verify(rt, tenant_id, domain, resolver=lambda name: published.get(name, []))
