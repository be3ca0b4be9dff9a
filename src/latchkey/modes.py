"""Development and production: what `latchkey serve`, `serve --dev`, `demo` and the admin commands
require and allow. Production is the default; development conveniences are asked for."""

from __future__ import annotations

from dataclasses import replace
from enum import Enum
from pathlib import Path

from latchkey.config import (
    DEV_MASTER_KEY_FILE,
    Settings,
    load_or_create_master_key,
    read_master_key,
)
from latchkey.errors import ConfigError

MAKE_A_KEY = 'python -c "import secrets; print(secrets.token_urlsafe(32))"'


class Mode(Enum):
    # `serve` without --dev: the master key comes from the operator, nothing is made for them.
    PRODUCTION = "production"
    # `serve --dev`, `demo`, `make run`: a key file and a local tenant made on first start.
    DEVELOPMENT = "development"
    # The admin commands: the key the server uses (set, or a development key file already
    # there); a command that needs one and finds none says so. Nothing is created.
    COMMAND = "command"


def master_key(settings: Settings, mode: Mode) -> bytes | None:
    """The master key this mode runs with; production without one is refused, naming the
    variable and how to make a key."""
    if settings.master_key:
        return settings.master_key
    if mode is Mode.DEVELOPMENT:
        return load_or_create_master_key(settings.master_key_file or DEV_MASTER_KEY_FILE)
    if settings.master_key_file:
        # An operator's key file (a mounted secret): read, never made.
        if not Path(settings.master_key_file).is_file():
            raise ConfigError(
                f"LATCHKEY_MASTER_KEY_FILE {settings.master_key_file!r} does not exist; put the"
                f" master key there (make one with: {MAKE_A_KEY})"
            )
        return read_master_key(settings.master_key_file)
    if mode is Mode.COMMAND:
        found = Path(DEV_MASTER_KEY_FILE)
        return read_master_key(str(found)) if found.is_file() else None
    raise ConfigError(
        "LATCHKEY_MASTER_KEY is not set: production mode needs the master key that seals"
        f" signing keys and secrets. Make one with: {MAKE_A_KEY}, keep it in your secret store"
        " and set LATCHKEY_MASTER_KEY (the same on every node); for local development run"
        " `latchkey serve --dev`"
    )


def require_public_url(settings: Settings, mode: Mode) -> None:
    """Production is told where it is reached (the OIDC issuer, links in mails, the portal's
    RP ID and cookies depend on it); development falls back to http://localhost:<port>."""
    if mode is Mode.PRODUCTION and not settings.public_url:
        raise ConfigError(
            "LATCHKEY_PUBLIC_URL is not set: production mode needs the https address users and"
            " apps reach Latchkey at (issuer, links in mails, portal), e.g."
            " LATCHKEY_PUBLIC_URL=https://auth.example.com; for local development run"
            " `latchkey serve --dev`"
        )


def mail(settings: Settings, mode: Mode) -> Settings:
    """Where mail goes when LATCHKEY_MAIL_MODE is not given: SMTP when LATCHKEY_SMTP_HOST is set,
    else the console in development; production without SMTP is refused, since a console mail
    would put recovery and verification codes in the log. Console mail chosen in production logs
    no content (see production_mail_warning)."""
    chosen = settings
    if not settings.mail_mode_given and settings.smtp_host:
        chosen = replace(settings, mail_mode="smtp")
    elif not settings.mail_mode_given and mode is Mode.PRODUCTION:
        raise ConfigError(
            "LATCHKEY_SMTP_HOST is not set: production mode sends recovery and verification"
            " codes by mail; set LATCHKEY_SMTP_HOST, LATCHKEY_SMTP_USERNAME,"
            " LATCHKEY_SMTP_PASSWORD and LATCHKEY_MAIL_FROM (or LATCHKEY_MAIL_MODE=off to send"
            " none); for local development run `latchkey serve --dev`"
        )
    return replace(chosen, console_mail_content=mode is not Mode.PRODUCTION)


def production_mail_warning(settings: Settings, mode: Mode) -> str | None:
    """The line production prints when its operator chose console mail."""
    if mode is not Mode.PRODUCTION or settings.mail_mode != "console":
        return None
    return (
        "latchkey: warning: LATCHKEY_MAIL_MODE=console in production: no mail is sent and the"
        " log shows only each message's Message-ID (recipient, subject and codes withheld); set"
        " LATCHKEY_SMTP_HOST to send mail"
    )


def access_log(settings: Settings, mode: Mode) -> bool:
    """LATCHKEY_ACCESS_LOG when set; otherwise on in development only."""
    return settings.access_log if settings.access_log is not None else mode is Mode.DEVELOPMENT


def development_notice(settings: Settings) -> str:
    """The one line development mode prints, so nobody runs it in production unawares."""
    key = (
        "LATCHKEY_MASTER_KEY"
        if settings.master_key
        else f"the key file {settings.master_key_file or DEV_MASTER_KEY_FILE}"
    )
    logged = ", access log on" if access_log(settings, Mode.DEVELOPMENT) else ""
    return (
        f"latchkey: development mode (not for production): master key from {key}, a local"
        f" tenant made on an empty database{logged}; run `latchkey serve` without --dev in"
        " production"
    )
