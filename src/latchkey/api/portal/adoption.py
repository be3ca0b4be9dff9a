"""The portal's passkey-adoption page: the hosted sign-in funnel of the tenant or one pool over
the days chosen (services/adoption.py), each chart drawn by the vendored Chart.js beside a
table of the same figures, each table exported as CSV by the management API."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode

from litestar import Response, get
from litestar.params import FromPath

from latchkey.api.context import AnyRequest, runtime
from latchkey.api.portal.http import FormError, attempt, page, session, tenant
from latchkey.services import adoption, directories
from latchkey.services.tenant_stats import chart

# (table, title, column heading, chart type, series name): the page's cards, in order.
CARDS = (
    ("funnel", "Sign-in funnel", "Step", "bar", "Count"),
    ("offers", "Passkey offer after a password sign-in", "Answer", "bar", "Offers"),
    ("methods", "Sign-ins by method", "Method", "bar", "Sign-ins"),
    ("time_to_sign_in", "Time from page load to signed in", "Figure", "bar", "Milliseconds"),
    ("failure_reasons", "Failures by reason", "Reason", "bar", "Failures"),
    ("failure_steps", "Failures by step", "Step", "bar", "Failures"),
    ("operating_systems", "Sign-ins by operating system", "Operating system", "doughnut",
     "Sign-ins"),
    ("browsers", "Sign-ins by browser", "Browser", "doughnut", "Sign-ins"),
    ("providers", "Passkey sign-ins by provider", "Provider", "doughnut", "Sign-ins"),
    ("synced", "Synced and device-bound passkeys", "Kind", "doughnut", "Sign-ins"),
)  # fmt: skip
# What a row's name means to a reader (the CSV and the JSON keep the names).
LABELS = {
    "pages_loaded": "Sign-in pages loaded",
    "users_signed_in": "Users who signed in",
    "users_with_passkey": "… of them with a passkey",
    "sign_ins": "Sign-ins",
    "shown": "Shown",
    "accepted": "Accepted",
    "declined": "Declined",
    "autofill": "Passkey autofill",
    "button": "Passkey button",
    "identifier": "Identifier first",
    "passkey": "Passkey (page did not say)",
    "password": "Password",
    "recovery": "Recovery",
    "median_ms": "Median",
    "p90_ms": "90th percentile",
    "timed": "Sign-ins timed",
    "synced": "Synced",
    "device_bound": "Device-bound",
}
# A failed step's name where it differs from the method of the same name.
STEP_LABELS = {
    "passkey": "Passkey sign-in",
    "password": "Password",
    "recovery_request": "Recovery request",
    "recovery_code": "Recovery code",
}
FIELDS = ("since", "until", "pool")
# Rows that are not of the chart's quantity (the count behind the times).
_UNCHARTED = {"timed"}


def _day(value: str, name: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise FormError(f"{name} is not a date (YYYY-MM-DD)") from exc


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


def _label(table: str, name: str) -> str:
    if table == "failure_reasons":
        return name  # an error code, as the event log and the API name it
    found = STEP_LABELS.get(name) if table == "failure_steps" else LABELS.get(name)
    return found or name


@get("/t/{tenant_id:str}/adoption", sync_to_thread=True)
def adoption_page(tenant_id: FromPath[str], request: AnyRequest) -> Response[str]:
    session(request)
    shown = tenant(request, tenant_id)
    rt = runtime(request)
    given = {k: (request.query_params.get(k) or "").strip()[:64] for k in FIELDS}

    def read() -> adoption.Adoption:
        first, last = _day(given["since"], "From"), _day(given["until"], "To")
        return adoption.for_tenant(
            rt,
            shown.id,
            since=_midnight(first) if first else None,
            # The last day is shown whole: the period ends at the next midnight.
            until=_midnight(last + timedelta(days=1)) if last else None,
            pool=given["pool"] or None,
        )

    found, error, status = attempt(read)
    if found is None:
        found = adoption.funnel(rt, shown.id, since=rt.now(), until=rt.now())
    tables = adoption.tables(found)
    export = {"since": found.since.isoformat(), "until": found.until.isoformat()}
    if found.pool_id:
        export["poolId"] = found.pool_id
    cards: list[dict[str, Any]] = []
    for name, title, heading, kind, series in CARDS:
        rows = [(_label(name, key), n) for key, n in tables[name]]
        drawn = [(label, n or 0) for (key, _), (label, n) in zip(tables[name], rows, strict=True)
                 if key not in _UNCHARTED]  # fmt: skip
        spec = chart(kind, [label for label, _ in drawn], **{series: [n for _, n in drawn]})
        csv = f"/admin/v1/tenants/{shown.id}/adoption/export?{urlencode(export | {'table': name})}"
        cards.append({"name": name, "title": title, "heading": heading, "column": series,
                      "rows": rows, "chart": json.dumps(spec), "csv": csv})  # fmt: skip
    last_day = (found.until - timedelta(microseconds=1)).date()
    return page(
        request, "adoption.html", title="Passkey adoption", tenant=shown, cards=cards,
        figures=found, error=error, status=status,
        pools=directories.list_for(rt, shown.id),
        form={"since": given["since"] or found.since.date().isoformat(),
              "until": given["until"] or last_day.isoformat(), "pool": given["pool"]},
        export_all=f"/admin/v1/tenants/{shown.id}/adoption/export?{urlencode(export)}",
    )  # fmt: skip


handlers = [adoption_page]
