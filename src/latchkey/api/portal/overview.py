"""A tenant's overview page: its charts (drawn by the vendored Chart.js from data-chart
attributes, with the same figures in tables for screen readers and for no JavaScript)."""

from __future__ import annotations

import json

from litestar import Response, get
from litestar.params import FromPath

from latchkey.api.context import AnyRequest, runtime
from latchkey.api.portal.http import page, session, tenant
from latchkey.services import metadata, tenant_stats


@get("/t/{tenant_id:str}", sync_to_thread=True)
def overview(tenant_id: FromPath[str], request: AnyRequest) -> Response[str]:
    session(request)
    shown = tenant(request, tenant_id)
    figures = tenant_stats.overview(runtime(request), shown.id)
    charts = {
        "activity": tenant_stats.chart(
            "line", figures.days, **{"Sign-ins": figures.sign_ins, "Sign-ups": figures.sign_ups}
        ),
        "outcomes": tenant_stats.chart(
            "doughnut", ["Success", "Failure"], Ceremonies=[figures.successes, figures.failures]
        ),
        "reasons": tenant_stats.chart(
            "bar", [r for r, _ in figures.reasons], Failures=[n for _, n in figures.reasons]
        ),
        "providers": tenant_stats.chart(
            "doughnut",
            [p for p, _ in figures.providers],
            Passkeys=[n for _, n in figures.providers],
        ),
        "synced": tenant_stats.chart(
            "doughnut", ["Synced", "Device-bound"], Passkeys=[figures.synced, figures.device_bound]
        ),
    }
    rt = runtime(request)
    return page(
        request,
        "overview.html",
        title="Overview",
        tenant=shown,
        figures=figures,
        alerts=metadata.alerts(rt, shown.id),
        fido_metadata=metadata.info(rt),
        charts={name: json.dumps(spec) for name, spec in charts.items()},
    )


handlers = [overview]
