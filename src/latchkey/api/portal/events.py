"""The event log in the portal: filters (kind, outcome, user, time range), cursor pages (as the
management API pages them), a detail view, and export links (JSON lines, CSV) to the management
API, which accepts the portal session."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from litestar import Response, get
from litestar.params import FromPath

from latchkey.api.context import AnyRequest, runtime
from latchkey.api.portal.http import FormError, attempt, page, session, tenant
from latchkey.errors import NotFound
from latchkey.services import event_log as log
from latchkey.services.event_export import EventRecord
from latchkey.store import operators as operator_store
from latchkey.store import users as user_store

FILTERS = ("kind", "outcome", "user_id", "since", "until")
KINDS = ("passkey.authentication", "passkey.registration", "admin.*")
PAGE_SIZE = 50


class EventNotFound(NotFound):
    code = "event_not_found"


def _when(value: str, name: str) -> datetime | None:
    """A datetime-local field (read as UTC) or a full ISO 8601 time."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise FormError(f"{name} is not a date and time (YYYY-MM-DDTHH:MM)") from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _user_id(request: AnyRequest, tenant_id: str, given: str) -> str | None:
    """The user filter takes the app's user id (as the log shows it) or Latchkey's own id."""
    if not given:
        return None
    with runtime(request).read() as conn:
        found = user_store.by_external_id(conn, tenant_id, given)
    return found.id if found else given


def _given(request: AnyRequest) -> dict[str, str]:
    return {name: (request.query_params.get(name) or "").strip()[:64] for name in FILTERS}


@get("/t/{tenant_id:str}/events", sync_to_thread=True)
def event_log(tenant_id: FromPath[str], request: AnyRequest) -> Response[str]:
    session(request)
    shown = tenant(request, tenant_id)
    given = _given(request)
    cursor = (request.query_params.get("cursor") or "")[:200] or None
    user_id = _user_id(request, shown.id, given["user_id"])

    def read() -> Any:
        wanted = log.EventFilter(
            given["kind"] or None,
            given["outcome"] or None,
            user_id,
            None,
            _when(given["since"], "since"),
            _when(given["until"], "until"),
        )
        return log.page(runtime(request), shown.id, wanted, cursor=cursor, limit=PAGE_SIZE)

    found, error, status = attempt(read)
    shown_events = [EventRecord.of(e) for e in found.events] if found else []
    with runtime(request).read() as conn:
        people = user_store.by_ids(conn, shown.id, {e.user_id for e in shown_events if e.user_id})
    query = {k: v for k, v in given.items() if v}
    export = f"/admin/v1/tenants/{shown.id}/events/export?"
    api_filters = {k: v for k, v in query.items() if k != "user_id"}
    api_filters |= {"userId": user_id} if user_id else {}
    return page(
        request, "events.html", title="Event log", tenant=shown, given=given, kinds=KINDS,
        events=shown_events, users=people, error=error,
        status=status,
        next_url=f"?{urlencode(query | {'cursor': found.next_cursor})}"
        if found and found.next_cursor else None,
        first_url=f"?{urlencode(query)}" if cursor else None,
        export_jsonl=export + urlencode(api_filters | {"format": "jsonl"}),
        export_csv=export + urlencode(api_filters | {"format": "csv"}),
    )  # fmt: skip


@get("/t/{tenant_id:str}/events/{event_id:str}", sync_to_thread=True)
def event_detail(
    tenant_id: FromPath[str], event_id: FromPath[str], request: AnyRequest
) -> Response[str]:
    session(request)
    shown = tenant(request, tenant_id)
    with runtime(request).read() as conn:
        found = operator_store.event(conn, shown.id, event_id[:36])
    if found is None:
        raise EventNotFound(f"no event {event_id!r}")
    return page(request, "event.html", title="Event", tenant=shown, event=EventRecord.of(found))


handlers = [event_log, event_detail]
