"""The identity-pool domain, without HTTP: this module is the pool itself (a tenant's directory
with the settings of its hosted pages, read and changed here), and beside it the steps users take
in it: the passkey ceremonies of sign-up and sign-in (ceremonies.py) over stored browser flows
(flows.py), passwords (passwords.py), the account page's changes (accounts.py), recovery
(recovery.py, recovery_limits.py, account_recovery.py), proving an e-mail address
(email_verification.py), the bot check (botcheck.py) and the SSO session a sign-in opens
(sso.py). It may import the other services, latchkey.runtime, the store, the records (models,
errors, event_kinds, ids), i18n, mail and webauthn; never latchkey.api, oauth2 or oidc (they call
it).

A pool is a directory (one concept): its identifier schema decides what users sign up with, and
`settings` (stored as JSON on the directory) decide how the hosted pages behave and look.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Protocol, TypeVar

from latchkey import i18n
from latchkey.errors import InvalidRequest, NotFound, Problem
from latchkey.models import Directory
from latchkey.runtime import Runtime
from latchkey.services import identifiers
from latchkey.store import directories as directory_store

_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
T = TypeVar("T")
MAX_PASSKEYS_LIMIT = 100
# The first is the default.
EMAIL_VERIFICATION = ("optional", "required", "off")


class PoolNotFound(NotFound):
    code = "pool_not_found"


@dataclass(frozen=True)
class Branding:
    name: str | None = None
    logo_url: str | None = None
    primary_color: str = "#2f5bd3"


BOT_CHECK_COMPLEXITY = (1_000, 10_000_000)


@dataclass(frozen=True)
class PoolSettings:
    display_name: str | None = None
    self_registration: bool = True
    bot_check: bool = True
    # Passkeys are always on; passwords only for teams migrating users off them.
    password: bool = False
    identifier_first: bool = False
    max_passkeys: int = 10
    branding: Branding = field(default_factory=Branding)
    email_sender: str | None = None
    # A recovery's new passkey replaces the lost ones; on: the old ones stay (the page says so
    # and links to the account page, where the user removes them).
    recovery_keeps_passkeys: bool = False
    # Sign-up mails a code and link that prove the e-mail address: "optional" (the account
    # works at once), "required" (not until proved) or "off" (services/pools/email_verification.py).
    email_verification: str = "optional"
    # The hosted pages' language when neither the user nor the browser names a shipped one.
    default_locale: str = "en"
    # The pool's own wording of any catalog message, per locale: {"de": {msgid: text}}.
    messages: dict[str, dict[str, str]] = field(default_factory=dict)
    # The bot check's cost: the ALTCHA secret number's upper bound; a browser tries half of it
    # on average (docs/identity-pools.md has a measurement).
    bot_check_complexity: int = 50_000

    def shown_name(self, directory: Directory) -> str:
        return self.branding.name or self.display_name or directory.name

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _bool(values: Mapping[str, Any], name: str, default: bool) -> bool:
    value = values.get(name, default)
    if not isinstance(value, bool):
        raise InvalidRequest(f"{name} must be true or false")
    return value


def _choice(values: Mapping[str, Any], name: str, allowed: tuple[str, ...]) -> str:
    value = values.get(name, allowed[0])
    if value not in allowed:
        raise InvalidRequest(f"{name} must be one of {', '.join(allowed)}")
    return str(value)


def _text(value: Any, name: str, limit: int) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value) > limit:
        raise InvalidRequest(f"{name} must be a string of at most {limit} characters")
    return value


def _branding(values: Any, check: Check) -> Branding:
    if values is None:
        return Branding()
    if not isinstance(values, Mapping):
        raise InvalidRequest("branding must be an object")
    unknown = set(values) - {"name", "logo_url", "primary_color"}
    if unknown:
        raise InvalidRequest(f"branding has unknown fields: {', '.join(sorted(unknown))}")
    return Branding(
        check("branding.name", lambda: _text(values.get("name"), "branding.name", 100), None),
        check("branding.logo_url", lambda: _logo(values.get("logo_url")), None),
        check("branding.primary_color", lambda: _colour(values.get("primary_color")), None)
        or Branding.primary_color,
    )


def _logo(value: Any) -> str | None:
    logo = _text(value, "branding.logo_url", 2048)
    # Shown in an <img> on our pages: only https (or a local http URL in development).
    if logo and not logo.startswith(("https://", "http://localhost", "http://127.0.0.1", "/")):
        raise InvalidRequest("branding.logo_url must be an https:// URL or a path")
    return logo


def _colour(value: Any) -> str:
    colour = value or Branding.primary_color
    if not isinstance(colour, str) or not _COLOUR.match(colour):
        raise InvalidRequest("branding.primary_color must look like #1a2b3c")
    return colour.lower()


def _whole(values: Mapping[str, Any], name: str, default: int, low: int, high: int) -> int:
    value = values.get(name, default)
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise InvalidRequest(f"{name} must be {low} to {high}")
    return value


def _sender(value: Any) -> str | None:
    if value is None or value == "":
        return None
    try:
        return identifiers.normalize("email", value)
    except InvalidRequest as exc:
        reason = exc.message.removeprefix("email is not valid: ")
        raise InvalidRequest(f"email_sender is not an e-mail address: {reason}") from exc


def _locale(value: Any, name: str) -> str:
    if not isinstance(value, str) or value not in i18n.LOCALES:
        raise InvalidRequest(f"{name} must be one of {', '.join(i18n.LOCALES)}")
    return value


_PLACEHOLDER = re.compile(r"%\((\w+)\)s")
MAX_MESSAGE = 1000


def _message(msgid: Any, text: Any) -> str:
    """A pool's wording of a message: the same %(name)s placeholders, no other % (a page
    formats it with the message's values)."""
    where = f"messages: {str(msgid)[:80]!r}"
    if not isinstance(msgid, str) or not isinstance(text, str):
        raise InvalidRequest(f"{where} must map a message to a string")
    if msgid not in i18n.catalog_messages():
        raise InvalidRequest(f"{where} is not a message of the hosted pages (see messages.pot)")
    if not text.strip() or len(text) > MAX_MESSAGE:
        raise InvalidRequest(f"{where} must be 1 to {MAX_MESSAGE} characters")
    if set(_PLACEHOLDER.findall(text)) != set(_PLACEHOLDER.findall(msgid)):
        wanted = ", ".join(sorted(set(_PLACEHOLDER.findall(msgid)))) or "none"
        raise InvalidRequest(f"{where} must use the message's placeholders ({wanted})")
    if "%" in _PLACEHOLDER.sub("", text).replace("%%", ""):
        raise InvalidRequest(f"{where}: write a percent sign as %%")
    return text


def _messages(values: Any) -> dict[str, dict[str, str]]:
    if values is None:
        return {}
    if not isinstance(values, Mapping):
        raise InvalidRequest("messages must be an object of locales")
    return {
        _locale(locale, "messages' locale"): {
            msgid: _message(msgid, text) for msgid, text in _mapping(own, locale).items()
        }
        for locale, own in values.items()
        if own
    }


def _mapping(value: Any, locale: str) -> Mapping[Any, Any]:
    if not isinstance(value, Mapping):
        raise InvalidRequest(f"messages.{locale} must be an object of messages")
    return value


class Check(Protocol):
    def __call__(self, name: str, read: Callable[[], T], default: T) -> T: ...


def parse(values: Mapping[str, Any]) -> PoolSettings:
    """Settings from their JSON form. Every field is checked; a refusal names each bad field
    with its reason (`problems`), so a form shows them all at once."""
    problems: list[Problem] = []

    def check(name: str, read: Callable[[], T], default: T) -> T:
        try:
            return read()
        except InvalidRequest as exc:
            problems.append(Problem(name, exc.message))
            return default

    unknown = set(values) - set(PoolSettings.__dataclass_fields__)
    if unknown:
        problems.append(Problem("settings", f"unknown pool settings: {', '.join(sorted(unknown))}"))
    low, high = BOT_CHECK_COMPLEXITY
    settings = PoolSettings(
        display_name=check(
            "display_name", lambda: _text(values.get("display_name"), "display_name", 100), None
        ),
        self_registration=check(
            "self_registration", lambda: _bool(values, "self_registration", True), True
        ),
        bot_check=check("bot_check", lambda: _bool(values, "bot_check", True), True),
        password=check("password", lambda: _bool(values, "password", False), False),
        identifier_first=check(
            "identifier_first", lambda: _bool(values, "identifier_first", False), False
        ),
        max_passkeys=check(
            "max_passkeys",
            lambda: _whole(values, "max_passkeys", 10, 1, MAX_PASSKEYS_LIMIT),
            10,
        ),
        branding=check("branding", lambda: _branding(values.get("branding"), check), Branding()),
        email_sender=check("email_sender", lambda: _sender(values.get("email_sender")), None),
        recovery_keeps_passkeys=check(
            "recovery_keeps_passkeys",
            lambda: _bool(values, "recovery_keeps_passkeys", False),
            False,
        ),
        email_verification=check(
            "email_verification",
            lambda: _choice(values, "email_verification", EMAIL_VERIFICATION),
            "optional",
        ),
        default_locale=check(
            "default_locale",
            lambda: _locale(values.get("default_locale", i18n.DEFAULT), "default_locale"),
            i18n.DEFAULT,
        ),
        messages=check("messages", lambda: _messages(values.get("messages")), {}),
        bot_check_complexity=check(
            "bot_check_complexity",
            lambda: _whole(values, "bot_check_complexity", 50_000, low, high),
            50_000,
        ),
    )
    if problems:
        raise InvalidRequest.of(problems)
    return settings


def settings_of(directory: Directory) -> PoolSettings:
    return parse(directory.settings)


@dataclass(frozen=True)
class Pool:
    directory: Directory
    settings: PoolSettings

    @property
    def id(self) -> str:
        return self.directory.id

    @property
    def name(self) -> str:
        return self.settings.shown_name(self.directory)


def get(rt: Runtime, tenant_id: str, pool_id: str) -> Pool:
    """A pool by its id or its name, within the tenant only."""
    if not isinstance(pool_id, str) or not 0 < len(pool_id) <= 64:
        raise PoolNotFound("unknown pool")
    found: Pool | None = rt.cache("pools").get(
        (tenant_id, pool_id), lambda: _load(rt, tenant_id, pool_id)
    )
    if found is None:
        raise PoolNotFound("unknown pool")
    return found


def _load(rt: Runtime, tenant_id: str, pool_id: str) -> Pool | None:
    with rt.read() as conn:
        directory = directory_store.by_id(conn, tenant_id, pool_id) or directory_store.by_name(
            conn, tenant_id, pool_id
        )
    return Pool(directory, settings_of(directory)) if directory else None


def configure(rt: Runtime, tenant_id: str, pool_id: str, changes: Mapping[str, Any]) -> Pool:
    """Change some settings; the others keep their values."""
    pool = get(rt, tenant_id, pool_id)
    merged = {**pool.settings.to_json(), **changes}
    if isinstance(changes.get("branding"), Mapping):
        merged["branding"] = {**pool.settings.to_json()["branding"], **changes["branding"]}
    settings = parse(merged)
    with rt.transaction() as conn:
        changed = replace(pool.directory, settings=settings.to_json(), updated_at=rt.now())
        directory_store.save(conn, changed)
    for key in (changed.id, changed.name, pool_id):
        rt.cache("pools").forget((tenant_id, key))
    return Pool(changed, settings)


def set_message(
    rt: Runtime, tenant_id: str, pool_id: str, locale: str, msgid: str, text: str | None
) -> Pool:
    """Set (or, with no text, remove) the pool's own wording of one message in one locale."""
    messages = {k: dict(v) for k, v in get(rt, tenant_id, pool_id).settings.messages.items()}
    own = messages.setdefault(_locale(locale, "locale"), {})
    if text:
        own[msgid] = text
    else:
        own.pop(msgid, None)
    return configure(rt, tenant_id, pool_id, {"messages": messages})
