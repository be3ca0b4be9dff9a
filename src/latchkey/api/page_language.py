"""The language of a hosted page (or of what a page's request mails): see latchkey/i18n for
the order. `?lang=xx` on a page is the language switch: it sets the cookie that remembers it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from litestar.datastructures import Cookie

from latchkey import i18n
from latchkey.api.context import AnyRequest, secure
from latchkey.services import pools

_YEAR = 365 * 24 * 3600


def _switched(request: AnyRequest) -> str | None:
    return i18n.known(request.query_params.get("lang"))


def translator(
    request: AnyRequest, pool: pools.Pool, flow_context: Mapping[str, Any] | None = None
) -> i18n.Translator:
    locale = i18n.negotiate(
        chosen=_switched(request) or request.cookies.get(i18n.COOKIE),
        ui_locales=str((flow_context or {}).get("ui_locales") or ""),
        accept=request.headers.get("accept-language"),
        default=pool.settings.default_locale,
    )
    return i18n.translator(locale, pool.settings.messages)


def remembered(request: AnyRequest) -> list[Cookie]:
    """The cookie a language switch sets (path /: every page of the service speaks it)."""
    chosen = _switched(request)
    if chosen is None:
        return []
    return [
        Cookie(
            key=i18n.COOKIE,
            value=chosen,
            path="/",
            httponly=True,
            samesite="lax",
            secure=secure(request),
            max_age=_YEAR,
        )
    ]


def page_values(request: AnyRequest, active: i18n.Translator) -> dict[str, Any]:
    """What base.html needs: <html lang dir> and the switch's links (same page, same query
    but a mailed link's token: a secret goes in no more links than it came in)."""
    query = [(k, v) for k, v in request.query_params.multi_items() if k not in ("lang", "token")]
    return {
        "lang": i18n.html_lang(active.locale),
        "dir": i18n.direction(active.locale),
        "languages": [
            {
                "code": i18n.html_lang(code),
                "name": i18n.language_name(code),
                "href": f"{request.url.path}?{urlencode([*query, ('lang', code)])}",
                "current": code == active.locale,
            }
            for code in i18n.LOCALES
        ],
    }
