"""What end users read, in their language: the hosted pages, their scripts' messages and the
mails, through gettext catalogs (Babel) in locales/. `make messages` extracts, updates and
compiles them; the compiled .mo files ship in the package. It imports nothing else of
Latchkey's, so every layer that speaks to users may use it.

The locale of a page: the language the user chose on the pages (a cookie), else the
authorization request's OIDC `ui_locales` (OIDC Core §3.1.2.1), else the browser's
Accept-Language (RFC 9110 §12.5.4), else the pool's default. A pool may override any message in
any language; its wording is used before the catalog's.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

DOMAIN = "messages"
LOCALE_DIR = Path(__file__).parent / "locales"
DEFAULT = "en"
# The shipped catalogs (babel's names); the order is the language switch's.
LOCALES = ("en", "de", "fr", "es", "pt_BR", "ja", "ar")
COOKIE = "latchkey_lang"


def N_(message: str) -> str:
    """Marks a message for extraction; it is translated where it is shown."""
    return message


@cache
def _catalog(locale: str) -> NullTranslations:
    if locale == DEFAULT:
        return NullTranslations()
    return Translations.load(str(LOCALE_DIR), [locale], DOMAIN)


def known(locale: str | None) -> str | None:
    """A shipped locale for a language tag (`pt-BR`, `de-CH`, `ja`), or None."""
    if not locale:
        return None
    try:
        parsed = Locale.parse(locale.strip().replace("-", "_"))
    except (ValueError, TypeError, UnknownLocaleError):
        return None
    exact = str(parsed)
    if exact in LOCALES:
        return exact
    # A region we have no catalog for: the language's catalog (de_CH -> de, pt_PT -> pt_BR).
    return next((name for name in LOCALES if name.split("_")[0] == parsed.language), None)


def accept_language(header: str | None) -> list[str]:
    """The tags of an Accept-Language header, most preferred first (RFC 9110 §12.5.4)."""
    weighted: list[tuple[float, int, str]] = []
    for index, part in enumerate((header or "").split(",")[:32]):
        tag, _, params = part.strip().partition(";")
        weight = 1.0
        if params.strip().startswith("q="):
            try:
                weight = float(params.strip()[2:])
            except ValueError:
                continue
        if tag and tag != "*" and weight > 0:
            weighted.append((-weight, index, tag))
    return [tag for _, _, tag in sorted(weighted)]


def negotiate(
    *, chosen: str | None, ui_locales: str | None, accept: str | None, default: str
) -> str:
    """The page's locale: the user's choice, `ui_locales`, Accept-Language, the pool's default."""
    candidates: list[str | None] = [chosen, *(ui_locales or "").split()[:16]]
    candidates += accept_language(accept)
    for candidate in candidates:
        found = known(candidate)
        if found:
            return found
    return known(default) or DEFAULT


def html_lang(locale: str) -> str:
    """The BCP 47 tag for `<html lang>` (pt_BR -> pt-BR)."""
    return locale.replace("_", "-")


def direction(locale: str) -> str:
    return Locale.parse(locale).text_direction


def language_name(locale: str) -> str:
    """A language's own name, for the switch (Deutsch, 日本語, العربية)."""
    name = Locale.parse(locale).get_display_name(locale) or locale
    return name[:1].upper() + name[1:]


@dataclass(frozen=True)
class Translator:
    """A locale's catalog, with the pool's own wording before it."""

    locale: str = DEFAULT
    overrides: Mapping[str, str] = field(default_factory=dict)

    def gettext(self, message: str) -> str:
        return self.overrides.get(message) or _catalog(self.locale).gettext(message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        own = self.overrides.get(singular if n == 1 else plural)
        return own or _catalog(self.locale).ngettext(singular, plural, n)

    def all(self, messages: Iterable[str]) -> dict[str, str]:
        return {message: self.gettext(message) for message in messages}


def translator(locale: str, pool_messages: Mapping[str, Mapping[str, str]] | None) -> Translator:
    return Translator(locale, dict((pool_messages or {}).get(locale) or {}))


_current: ContextVar[Translator | None] = ContextVar("latchkey_translator", default=None)
_ENGLISH = Translator()


@contextlib.contextmanager
def using(active: Translator) -> Iterator[Translator]:
    """Make `active` the translator of gettext() below (a page's render, a mail's text)."""
    token = _current.set(active)
    try:
        yield active
    finally:
        _current.reset(token)


def current() -> Translator:
    return _current.get() or _ENGLISH


def gettext(message: str) -> str:
    return current().gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return current().ngettext(singular, plural, n)


_ = gettext


@cache
def catalog_messages() -> tuple[str, ...]:
    """Every message id of the shipped catalog template (what a pool may override)."""
    with (Path(__file__).parent / "messages.pot").open("rb") as handle:
        return tuple(str(m.id) for m in read_po(handle) if m.id and isinstance(m.id, str))
