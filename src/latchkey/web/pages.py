"""Rendering the hosted pages: Jinja2 with autoescaping, and the headers every page carries.

No inline script or style anywhere, so the Content-Security-Policy can forbid both; the pool's
colour comes from a small per-pool stylesheet (theme.css), page data from data-* attributes.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from typing import Any

from babel.dates import format_datetime
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import escape

from latchkey import i18n
from latchkey.i18n import script_messages

# worker-src 'self': the bot check solves in a same-origin worker file (static/vendor/altcha).
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' https: data:; "
    "connect-src 'self'; worker-src 'self'; form-action 'self'; base-uri 'none'; "
    "frame-ancestors 'none'"
)

PAGE_HEADERS = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    # Recovery links carry a token in the URL: never send it on as a Referer.
    "referrer-policy": "no-referrer",
    "cache-control": "no-store",
}


def _page_gettext(message: str) -> str:
    # The catalogs' translations are trusted markup like the templates; a pool's own wording
    # (i18n.Translator.overrides) is an operator's text: escaped, never markup.
    active = i18n.current()
    own = active.overrides.get(message)
    return str(escape(own)) if own else active.gettext(message)


def _page_ngettext(singular: str, plural: str, n: int) -> str:
    active = i18n.current()
    own = active.overrides.get(singular if n == 1 else plural)
    return str(escape(own)) if own else active.ngettext(singular, plural, n)


def _local_datetime(value: datetime) -> str:
    """A UTC time as the page's language writes one (CLDR through Babel)."""
    moment = value if value.tzinfo else value.replace(tzinfo=UTC)
    return format_datetime(moment, "medium", tzinfo=UTC, locale=i18n.current().locale) + " UTC"


@cache
def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("latchkey.web", "templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
        extensions=["jinja2.ext.i18n"],
    )
    env.policies["ext.i18n.trimmed"] = True
    env.filters["local_datetime"] = _local_datetime
    env.globals["script_messages"] = lambda: script_messages.for_page(i18n.current())
    env.install_gettext_callables(_page_gettext, _page_ngettext, newstyle=True)  # type: ignore[attr-defined]
    return env


def render(template: str, translator: i18n.Translator | None = None, **values: Any) -> str:
    """A page in the translator's language (English when none is given)."""
    with i18n.using(translator or i18n.Translator()):
        return _environment().get_template(template).render(**values)
