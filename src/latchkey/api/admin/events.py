"""/admin/v1/tenants/{tenantId}/events: the event log, filtered, in cursor pages (newest
first; a page's `nextCursor` continues it without skipping or repeating while new events are
written), and its export as JSON lines or CSV, streamed."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from litestar import get
from litestar.params import FromPath, FromQuery, QueryParameter
from litestar.response import Stream

from latchkey.api.admin.auth import tenant_of
from latchkey.api.context import AnyRequest, runtime
from latchkey.api.schemas import Out
from latchkey.services import event_export, event_log
from latchkey.services.event_export import EventRecord

KindQuery = Annotated[str | None, QueryParameter(max_length=64)]
Outcome = FromQuery[Literal["success", "failure"] | None]
When = FromQuery[datetime | None]
UserId = Annotated[str | None, QueryParameter(name="userId", max_length=36)]
CredentialId = Annotated[str | None, QueryParameter(name="credentialId", max_length=36)]


class EventPage(Out):
    events: list[EventRecord]
    # Pass as `cursor` for the next page; null on the last one.
    next_cursor: str | None


def _filter(
    kind: str | None,
    outcome: str | None,
    user_id: str | None,
    credential_id: str | None,
    since: datetime | None,
    until: datetime | None,
) -> event_log.EventFilter:
    given = event_log.EventFilter(kind, outcome, user_id, credential_id, since, until)
    given.conditions()  # a bad filter is refused now, before any answer starts
    return given


@get("/tenants/{tenant_id:str}/events", sync_to_thread=True)
def list_events(
    tenant_id: FromPath[str],
    request: AnyRequest,
    kind: KindQuery = None,
    outcome: Outcome = None,
    user_id: UserId = None,
    credential_id: CredentialId = None,
    since: When = None,
    until: When = None,
    cursor: Annotated[str | None, QueryParameter(max_length=200)] = None,
    limit: Annotated[int, QueryParameter(ge=1, le=event_log.MAX_PAGE)] = 100,
) -> EventPage:
    tenant = tenant_of(request, tenant_id)
    given = _filter(kind, outcome, user_id, credential_id, since, until)
    found = event_log.page(runtime(request), tenant.id, given, cursor=cursor, limit=limit)
    return EventPage(
        events=[EventRecord.of(e) for e in found.events], next_cursor=found.next_cursor
    )


@get("/tenants/{tenant_id:str}/events/export", sync_to_thread=True)
def export_events(
    tenant_id: FromPath[str],
    request: AnyRequest,
    format: FromQuery[Literal["jsonl", "csv"]] = "jsonl",
    kind: KindQuery = None,
    outcome: Outcome = None,
    user_id: UserId = None,
    credential_id: CredentialId = None,
    since: When = None,
    until: When = None,
) -> Stream:
    """Every matching event, newest first, one a line; read in batches while it is sent."""
    tenant = tenant_of(request, tenant_id)
    given = _filter(kind, outcome, user_id, credential_id, since, until)
    lines = event_export.render(event_log.iterate(runtime(request), tenant.id, given), format)
    name = f"latchkey-events-{tenant.id}.{format}"
    return Stream(
        lines,
        media_type=event_export.FORMATS[format],
        headers={"content-disposition": f'attachment; filename="{name}"'},
    )


handlers = [list_events, export_events]
