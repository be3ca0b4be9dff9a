"""/admin/v1/tenants/{tenantId}/adoption: passkey adoption at a glance, the figures the
portal's adoption page charts (services/adoption.py), for the tenant or one of its pools over
a period (the last 30 days unless said); and each of its tables as CSV."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Annotated, Literal

from litestar import Response, get
from litestar.params import FromPath, FromQuery, QueryParameter

from latchkey.api.admin.auth import tenant_of
from latchkey.api.context import AnyRequest, runtime
from latchkey.api.schemas import Out
from latchkey.services import adoption
from latchkey.services.event_export import csv_cell

When = FromQuery[datetime | None]
PoolQuery = Annotated[str | None, QueryParameter(name="poolId", max_length=64)]
Table = Literal[
    "funnel", "offers", "methods", "time_to_sign_in", "failure_reasons", "failure_steps",
    "operating_systems", "browsers", "providers", "synced",
]  # fmt: skip


class Counted(Out):
    name: str
    count: int


class SignInFunnel(Out):
    pages_loaded: int
    users_signed_in: int
    # Of the users who signed in, those with at least one passkey now.
    users_with_passkey: int
    sign_ins: int


class PasskeyOffers(Out):
    """The passkey offer after a password sign-in."""

    shown: int
    accepted: int
    declined: int


class TimeToSignIn(Out):
    """Milliseconds from the sign-in page's load to signed in (nearest rank), of `timed`."""

    median_ms: int | None
    p90_ms: int | None
    timed: int


class Failures(Out):
    total: int
    by_reason: list[Counted]
    # passkey, password, recovery_request, recovery_code.
    by_step: list[Counted]


class Platforms(Out):
    operating_systems: list[Counted]
    browsers: list[Counted]


class Passkeys(Out):
    """The passkeys of the period's passkey sign-ins."""

    providers: list[Counted]
    synced: int
    device_bound: int


class Adoption(Out):
    since: datetime
    until: datetime
    # The pool the figures are for (its id); null: every pool of the tenant.
    pool_id: str | None
    funnel: SignInFunnel
    offers: PasskeyOffers
    # autofill, button, identifier, passkey (a page that did not say), password, recovery.
    methods: list[Counted]
    time_to_sign_in: TimeToSignIn
    failures: Failures
    platforms: Platforms
    passkeys: Passkeys

    @classmethod
    def of(cls, found: adoption.Adoption) -> Adoption:
        def counted(pairs: list[tuple[str, int]]) -> list[Counted]:
            return [Counted(name=name, count=n) for name, n in pairs]

        return cls(
            since=found.since,
            until=found.until,
            pool_id=found.pool_id,
            funnel=SignInFunnel(
                pages_loaded=found.pages_loaded,
                users_signed_in=found.users_signed_in,
                users_with_passkey=found.users_with_passkey,
                sign_ins=found.sign_ins,
            ),
            offers=PasskeyOffers(
                shown=found.offers_shown,
                accepted=found.offers_accepted,
                declined=found.offers_declined,
            ),
            methods=counted(found.methods),
            time_to_sign_in=TimeToSignIn(
                median_ms=found.median_ms, p90_ms=found.p90_ms, timed=found.timed
            ),
            failures=Failures(
                total=found.failures,
                by_reason=counted(found.failure_reasons),
                by_step=counted(found.failure_steps),
            ),
            platforms=Platforms(
                operating_systems=counted(found.operating_systems),
                browsers=counted(found.browsers),
            ),
            passkeys=Passkeys(
                providers=counted(found.providers),
                synced=found.synced,
                device_bound=found.device_bound,
            ),
        )


def figures(
    request: AnyRequest,
    tenant_id: str,
    since: datetime | None,
    until: datetime | None,
    pool_id: str | None,
) -> adoption.Adoption:
    tenant = tenant_of(request, tenant_id)
    return adoption.for_tenant(runtime(request), tenant.id, since=since, until=until, pool=pool_id)


@get("/tenants/{tenant_id:str}/adoption", sync_to_thread=True)
def get_adoption(
    tenant_id: FromPath[str],
    request: AnyRequest,
    since: When = None,
    until: When = None,
    pool_id: PoolQuery = None,
) -> Adoption:
    """The hosted sign-in funnel: sign-ins by method, the passkey offer, time to sign in,
    failures, platforms and passkey providers; `since` inclusive, `until` exclusive."""
    return Adoption.of(figures(request, tenant_id, since, until, pool_id))


@get("/tenants/{tenant_id:str}/adoption/export", sync_to_thread=True)
def export_adoption(
    tenant_id: FromPath[str],
    request: AnyRequest,
    table: FromQuery[Table | None] = None,
    since: When = None,
    until: When = None,
    pool_id: PoolQuery = None,
) -> Response[str]:
    """One table of the figures as CSV (name,count), or every table (table,name,count)."""
    found = adoption.tables(figures(request, tenant_id, since, until, pool_id))
    chosen = {table: found[table]} if table else found
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(["name", "count"] if table else ["table", "name", "count"])
    for name, rows in chosen.items():
        for label, n in rows:
            cells = [csv_cell(label), "" if n is None else n]
            writer.writerow(cells if table else [name, *cells])
    filename = f"latchkey-adoption-{tenant_id}{'-' + table if table else ''}.csv"
    return Response(
        buffer.getvalue(),
        media_type="text/csv",  # Litestar adds the charset
        headers={"content-disposition": f'attachment; filename="{filename}"'},
    )


handlers = [get_adoption, export_adoption]
