"""A tenant's domains: granted by a global operator, then proved by the domain's owner before
they serve anything.

A domain is the tenant's RP ID or a subdomain of it, never the service's own public host (which
is also the portal's RP ID) and never another tenant's. It serves the tenant's OIDC endpoints
and association files at its root only once proved, as ACME proves a name (RFC 8555 §8.3,
§8.4): its owner publishes `latchkey-domain-verification=<token>` either as a TXT record at
`_latchkey-challenge.<domain>` or as the file `https://<domain>/.well-known/
latchkey-domain-verification.txt`, and `latchkey tenant verify-domain` checks it. Latchkey never
serves that file itself: a domain already pointed at Latchkey is proved by DNS, or by a file
its own proxy serves.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import dns.exception
import dns.resolver
import httpx
from sqlalchemy import Connection

from latchkey.errors import ConfigError, NotFound
from latchkey.models import Tenant
from latchkey.runtime import Runtime
from latchkey.store import tenants as tenant_store

RECORD_PREFIX = "_latchkey-challenge."
FILE_PATH = "/.well-known/latchkey-domain-verification.txt"
VALUE_PREFIX = "latchkey-domain-verification="
TIMEOUT_SECONDS = 5.0
_MAX_FILE_BYTES = 4096

# The TXT strings published at a name ([] when there are none); the body of an https URL, or
# why there is none. Tests pass local stand-ins.
Resolver = Callable[[str], list[str]]
Fetcher = Callable[[str], tuple[str | None, str]]


class DomainNotProved(ConfigError):
    code = "domain_not_proved"


class DomainNotAssigned(NotFound):
    code = "domain_not_found"


@dataclass(frozen=True)
class DomainStatus:
    domain: str
    token: str
    verified_at: datetime | None

    @property
    def value(self) -> str:
        return f"{VALUE_PREFIX}{self.token}"

    @property
    def record_name(self) -> str:
        return f"{RECORD_PREFIX}{self.domain}"

    def file_url(self, base_url: str | None = None) -> str:
        return f"{base_url or f'https://{self.domain}'}{FILE_PATH}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "domain": self.domain,
            "proved": self.verified_at is not None,
            "verified_at": self.verified_at.isoformat() if self.verified_at else None,
            "txt_record": {"name": self.record_name, "value": self.value},
            "file": {"url": self.file_url(), "content": self.value},
        }


def reserved(rt: Runtime) -> str:
    """The service's own public host, which is also the portal's RP ID: no tenant's domain."""
    return (urlsplit(rt.public_url).hostname or "localhost").lower()


def normalize(domains: list[str]) -> list[str]:
    return sorted({d.strip().lower().rstrip(".") for d in domains if d.strip()})


def claim(conn: Connection, rt: Runtime, tenant: Tenant, domains: list[str]) -> list[str]:
    """Assign these host names to the tenant (replacing its list). Kept names keep their proof;
    new ones serve nothing until proved."""
    wanted = normalize(domains)
    for domain in wanted:
        if domain != tenant.rp_id and not domain.endswith("." + tenant.rp_id):
            raise ConfigError(
                f"domain {domain!r} is not the RP ID {tenant.rp_id!r} or a subdomain of it"
            )
        if domain == reserved(rt):
            raise ConfigError(
                f"domain {domain!r} is the service's own public host (and the portal's RP ID);"
                " it cannot be a tenant's"
            )
        owner = tenant_store.domain_owner(conn, domain)
        if owner is not None and owner != tenant.id:
            raise _taken(domain)
    # Another tenant's claim may commit between the check and the write: the same answer.
    taken = tenant_store.set_domains(conn, tenant.id, wanted)
    if taken is not None:
        raise _taken(taken)  # leaving the transaction rolls back what this call wrote
    return wanted


def _taken(domain: str) -> ConfigError:
    return ConfigError(f"domain {domain!r} already belongs to another tenant")


def statuses(rt: Runtime, tenant_id: str) -> list[DomainStatus]:
    with rt.read() as conn:
        rows = tenant_store.domain_rows(conn, tenant_id)
    return [DomainStatus(r.domain, r.verification_token, r.verified_at) for r in rows]


def dns_txt(name: str) -> list[str]:
    """The TXT strings at `name` (each record's character-strings joined, RFC 7208 §3.3)."""
    try:
        answer = dns.resolver.resolve(name, "TXT", lifetime=TIMEOUT_SECONDS)
    except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer, dns.resolver.NoNameservers):
        return []
    except dns.exception.Timeout:
        raise DomainNotProved(f"the DNS lookup of {name} timed out; try again") from None
    return [b"".join(record.strings).decode("utf-8", "replace") for record in answer]


def fetch_https(url: str) -> tuple[str | None, str]:
    """The body of `url` if it answers 200 directly (no redirect is followed, nothing from the
    environment is used), else None and why."""
    try:
        http = httpx.Client(timeout=TIMEOUT_SECONDS, follow_redirects=False, trust_env=False)
        with http, http.stream("GET", url) as answer:
            if answer.status_code != 200:
                return None, f"HTTP {answer.status_code}"
            body = b""
            for chunk in answer.iter_bytes():
                body += chunk
                if len(body) > _MAX_FILE_BYTES:
                    return None, "the file is larger than 4 KiB"
    except httpx.HTTPError as exc:
        return None, f"unreachable ({type(exc).__name__})"
    return body.decode("utf-8", "replace"), "HTTP 200"


def verify(
    rt: Runtime,
    tenant_id: str,
    domain: str,
    *,
    method: str = "any",
    resolver: Resolver | None = None,
    fetch: Fetcher | None = None,
    base_url: str | None = None,
) -> tuple[DomainStatus, str]:
    """Check the domain's proof (`dns`, `http` or `any`) and mark it proved; the status and the
    method that proved it. DomainNotProved says what was looked for and what was found.
    `resolver`, `fetch` and `base_url` (the file's scheme and host) stand in for DNS and the
    domain's web server in tests."""
    domain = domain.strip().lower().rstrip(".")
    found = {s.domain: s for s in statuses(rt, tenant_id)}
    status = found.get(domain)
    if status is None:
        raise DomainNotAssigned(f"domain {domain!r} is not assigned to tenant {tenant_id!r}")
    failures = []
    if method in ("dns", "any"):
        published = (resolver or dns_txt)(status.record_name)
        if status.value in (text.strip() for text in published):
            return _proved(rt, tenant_id, status), "dns"
        seen = ", ".join(repr(t) for t in published[:3]) or "no TXT record"
        failures.append(f"the TXT record {status.record_name} does not hold it (found {seen})")
    if method in ("http", "any"):
        url = status.file_url(base_url)
        body, why = (fetch or fetch_https)(url)
        if body is not None and status.value in body.split():
            return _proved(rt, tenant_id, status), "http"
        failures.append(f"{url} does not hold it ({why})")
    raise DomainNotProved(
        f"domain {domain!r} is not proved: publish {status.value!r}; "
        + "; ".join(failures)
        + ". Publish it, then run verify-domain again."
    )


def _proved(rt: Runtime, tenant_id: str, status: DomainStatus) -> DomainStatus:
    now = rt.now()
    with rt.transaction() as conn:
        tenant_store.mark_proved(conn, tenant_id, status.domain, now)
    return DomainStatus(status.domain, status.token, now)
