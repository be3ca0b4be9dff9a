"""Settings from the environment (LATCHKEY_*), each checked with an error naming the bad value."""

from __future__ import annotations

import binascii
import ipaddress
import os
import re
import secrets
from base64 import urlsafe_b64decode, urlsafe_b64encode
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from email.utils import parseaddr
from pathlib import Path
from typing import overload
from urllib.parse import urlsplit

from latchkey.errors import ConfigError
from latchkey.store.engine import normalize_url

DEFAULT_DATABASE_URL = "sqlite:///./latchkey.db"
LOG_LEVELS = ("debug", "info", "warning", "error")
MAIL_MODES = ("console", "smtp", "off")
RATE_LIMIT_STORES = ("auto", "memory", "database", "redis")
SMTP_SECURITY = ("starttls", "tls", "none")
DEFAULT_MAIL_FROM = "Latchkey <no-reply@localhost>"
LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1")
# Where development mode keeps the master key it makes (see modes.py); never made in production.
DEV_MASTER_KEY_FILE = "./latchkey.master-key"


@dataclass(frozen=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    host: str = "127.0.0.1"
    port: int = 8000
    master_key: bytes | None = field(default=None, repr=False)
    # LATCHKEY_MASTER_KEY_FILE: a file holding the key (read, never made, outside development).
    master_key_file: str | None = None
    public_url: str | None = None
    # Unauthenticated endpoints per client IP, LIMIT/SECONDS (see ratelimit.py for where counted).
    challenge_rate_limit: str = "120/60"
    # The same endpoints per tenant, from all addresses together.
    tenant_rate_limit: str = "60000/60"
    redis_url: str | None = None
    # auto: Redis when a URL is set, else the database on PostgreSQL, else process memory.
    rate_limit_store: str = "auto"
    # With the database store: how often this process adds its hits to the shared counts
    # (runtime/synced_counter.py); 0 counts each hit in its own transaction, exactly.
    rate_limit_sync_seconds: float = 0.1
    max_body_bytes: int = 64 * 1024
    # A request's whole body must arrive within this many seconds (slow clients cut off: 408).
    body_timeout_seconds: float = 10.0
    log_level: str = "info"
    # Outgoing mail (recovery and verification codes): logged in development, sent by SMTP in
    # production (modes.mail decides when LATCHKEY_MAIL_MODE is not given).
    mail_mode: str = "console"
    mail_mode_given: bool = False
    # Console mode logs each message's content (its codes and links) in development only.
    console_mail_content: bool = True
    mail_from: str = DEFAULT_MAIL_FROM
    mail_poll_seconds: float = 5.0
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_security: str = "starttls"
    smtp_username: str | None = None
    smtp_password: str | None = field(default=None, repr=False)
    # Webhooks: this process drains the outbox (off: leave it to other nodes).
    webhooks: bool = True
    webhook_poll_seconds: float = 1.0
    # How soon FIDO metadata loaded by another process or node (`latchkey mds update`) applies.
    metadata_check_seconds: float = 30.0
    # deny: no webhook to loopback, private or reserved addresses (an operator's URL must not
    # reach this machine's or its network's services); allow: for receivers on them.
    webhook_private_networks: str = "deny"
    # Proxies whose X-Forwarded-For / -Proto are believed (IPs or networks); none by default,
    # so a client cannot choose the address its rate limit is counted under.
    trusted_proxies: tuple[str, ...] = ()
    # LATCHKEY_ACCESS_LOG on|off; unset: on in development mode, off in production.
    access_log: bool | None = None

    def with_overrides(self, **changes: object) -> Settings:
        given = {k: v for k, v in changes.items() if v is not None}
        settings = replace(self, **given)  # type: ignore[arg-type]
        return settings.checked()

    def checked(self) -> Settings:
        normalize_url(self.database_url)
        _check_port(self.port, "port")
        if not 1024 <= self.max_body_bytes <= 10 * 1024 * 1024:
            raise ConfigError(
                f"LATCHKEY_MAX_BODY_BYTES {self.max_body_bytes} is outside 1024..10485760"
            )
        for name, rule in (
            ("LATCHKEY_CHALLENGE_RATE_LIMIT", self.challenge_rate_limit),
            ("LATCHKEY_TENANT_RATE_LIMIT", self.tenant_rate_limit),
        ):
            if not re.fullmatch(r"[1-9][0-9]*/[1-9][0-9]*", rule):
                raise ConfigError(f"{name} {rule!r} is not LIMIT/SECONDS, e.g. 30/60")
        if not 0.1 <= self.body_timeout_seconds <= 300:
            raise ConfigError(
                f"LATCHKEY_BODY_TIMEOUT_SECONDS {self.body_timeout_seconds} is outside 0.1..300"
            )
        if not 0 <= self.rate_limit_sync_seconds <= 10:
            raise ConfigError(
                f"LATCHKEY_RATE_LIMIT_SYNC_SECONDS {self.rate_limit_sync_seconds} is outside 0..10"
            )
        if self.rate_limit_store not in RATE_LIMIT_STORES:
            raise ConfigError(
                f"LATCHKEY_RATE_LIMIT_STORE {self.rate_limit_store!r} is not one of"
                f" {RATE_LIMIT_STORES}"
            )
        if self.redis_url and not self.redis_url.startswith(("redis://", "rediss://")):
            raise ConfigError(f"LATCHKEY_REDIS_URL {self.redis_url!r} is not a redis:// URL")
        if self.log_level not in LOG_LEVELS:
            raise ConfigError(f"LATCHKEY_LOG_LEVEL {self.log_level!r} is not one of {LOG_LEVELS}")
        self._check_mail()
        if not 0.1 <= self.webhook_poll_seconds <= 3600:
            raise ConfigError(
                f"LATCHKEY_WEBHOOK_POLL_SECONDS {self.webhook_poll_seconds} is outside 0.1..3600"
            )
        if self.webhook_private_networks not in ("allow", "deny"):
            raise ConfigError(
                f"LATCHKEY_WEBHOOK_PRIVATE_NETWORKS {self.webhook_private_networks!r} is not"
                " 'allow' or 'deny'"
            )
        for proxy in self.trusted_proxies:
            try:
                ipaddress.ip_network(proxy, strict=False)
            except ValueError as exc:
                raise ConfigError(
                    f"LATCHKEY_TRUSTED_PROXIES: {proxy!r} is not an IP address or network"
                ) from exc
        return self

    def _check_mail(self) -> None:
        if self.mail_mode not in MAIL_MODES:
            raise ConfigError(f"LATCHKEY_MAIL_MODE {self.mail_mode!r} is not one of {MAIL_MODES}")
        if self.smtp_security not in SMTP_SECURITY:
            raise ConfigError(
                f"LATCHKEY_SMTP_SECURITY {self.smtp_security!r} is not one of {SMTP_SECURITY}"
            )
        _check_port(self.smtp_port, "LATCHKEY_SMTP_PORT")
        address = parseaddr(self.mail_from)[1]
        if "@" not in address or any(ch in self.mail_from for ch in "\r\n"):
            raise ConfigError(
                f"LATCHKEY_MAIL_FROM {self.mail_from!r} is not an e-mail address"
                " (no-reply@example.com or Name <no-reply@example.com>)"
            )
        if not 0.1 <= self.mail_poll_seconds <= 3600:
            raise ConfigError(
                f"LATCHKEY_MAIL_POLL_SECONDS {self.mail_poll_seconds} is outside 0.1..3600"
            )
        if self.mail_mode == "smtp" and not self.smtp_host:
            raise ConfigError("LATCHKEY_MAIL_MODE is 'smtp' but LATCHKEY_SMTP_HOST is not set")
        # The password's value is never put in a message.
        if self.smtp_password and not self.smtp_username:
            raise ConfigError("LATCHKEY_SMTP_PASSWORD is set but LATCHKEY_SMTP_USERNAME is not")
        if (
            self.smtp_username
            and self.smtp_security == "none"
            and self.smtp_host not in LOOPBACK_HOSTS
        ):
            raise ConfigError(
                "LATCHKEY_SMTP_SECURITY 'none' with LATCHKEY_SMTP_USERNAME would send the"
                f" password to {self.smtp_host!r} in clear; use starttls or tls"
            )


def _check_port(port: int, name: str) -> None:
    if not 1 <= port <= 65535:
        raise ConfigError(f"{name} {port} is not a TCP port (1..65535)")


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name}={raw!r} is not an integer") from exc


@overload
def _on_off(env: Mapping[str, str], name: str, *, default: bool) -> bool: ...
@overload
def _on_off(env: Mapping[str, str], name: str, *, default: None) -> bool | None: ...
def _on_off(env: Mapping[str, str], name: str, *, default: bool | None) -> bool | None:
    raw = (env.get(name) or "").strip().lower()
    if raw == "":
        return default
    if raw not in ("on", "off"):
        raise ConfigError(f"{name}={raw!r} is not 'on' or 'off'")
    return raw == "on"


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return float(raw)
    except ValueError as exc:
        raise ConfigError(f"{name}={raw!r} is not a number") from exc


def _master_key(env: Mapping[str, str]) -> bytes | None:
    raw = env.get("LATCHKEY_MASTER_KEY")
    if not raw:
        return None
    try:
        key = urlsafe_b64decode(raw + "=" * (-len(raw) % 4))
    except (binascii.Error, ValueError) as exc:
        raise ConfigError("LATCHKEY_MASTER_KEY is not base64url") from exc
    if len(key) != 32:
        raise ConfigError(
            f"LATCHKEY_MASTER_KEY must be 32 random bytes in base64url (got {len(key)} bytes);"
            " make one with: python -c 'import secrets; print(secrets.token_urlsafe(32))'"
        )
    return key


def public_url(raw: str | None, name: str = "LATCHKEY_PUBLIC_URL") -> str | None:
    """The address Latchkey is reached at: https, or http on this machine only."""
    if not raw:
        return None
    try:
        parts = urlsplit(raw)
        host = parts.hostname
        parts.port  # noqa: B018 (raises ValueError for a port that is not a number)
    except ValueError as exc:
        raise ConfigError(f"{name} {raw!r} is not a URL") from exc
    loopback = parts.scheme == "http" and host in LOOPBACK_HOSTS
    if not host or not (parts.scheme == "https" or loopback):
        raise ConfigError(
            f"{name} {raw!r} must be an https:// URL (http only for localhost),"
            " e.g. https://auth.example.com"
        )
    if parts.query or parts.fragment or parts.username or parts.password:
        raise ConfigError(f"{name} {raw!r} must be a scheme, host and optional path only")
    return raw.rstrip("/")


def read_master_key(path: str) -> bytes:
    """The master key kept in a file (base64url, as LATCHKEY_MASTER_KEY)."""
    raw = Path(path).read_text().strip()
    key = _master_key({"LATCHKEY_MASTER_KEY": raw})
    if key is None:
        raise ConfigError(f"the master key file {path!r} is empty")
    return key


def load_or_create_master_key(path: str) -> bytes:
    """The development master key: kept in a file readable by its owner only, made on first use.
    Production sets LATCHKEY_MASTER_KEY from a secret store instead."""
    key_file = Path(path)
    if key_file.exists():
        return read_master_key(path)
    key = secrets.token_bytes(32)
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(urlsafe_b64encode(key).rstrip(b"=").decode() + "\n")
    return key


def from_env(env: Mapping[str, str] | None = None) -> Settings:
    env = os.environ if env is None else env
    security = (env.get("LATCHKEY_SMTP_SECURITY") or "starttls").lower()
    return Settings(
        database_url=env.get("LATCHKEY_DATABASE_URL") or DEFAULT_DATABASE_URL,
        host=env.get("LATCHKEY_HOST") or "127.0.0.1",
        port=_int(env, "LATCHKEY_PORT", 8000),
        master_key=_master_key(env),
        master_key_file=env.get("LATCHKEY_MASTER_KEY_FILE") or None,
        public_url=public_url(env.get("LATCHKEY_PUBLIC_URL")),
        challenge_rate_limit=env.get("LATCHKEY_CHALLENGE_RATE_LIMIT") or "120/60",
        tenant_rate_limit=env.get("LATCHKEY_TENANT_RATE_LIMIT") or "60000/60",
        redis_url=env.get("LATCHKEY_REDIS_URL") or None,
        rate_limit_store=(env.get("LATCHKEY_RATE_LIMIT_STORE") or "auto").lower(),
        rate_limit_sync_seconds=_float(env, "LATCHKEY_RATE_LIMIT_SYNC_SECONDS", 0.1),
        max_body_bytes=_int(env, "LATCHKEY_MAX_BODY_BYTES", 64 * 1024),
        body_timeout_seconds=_float(env, "LATCHKEY_BODY_TIMEOUT_SECONDS", 10.0),
        log_level=(env.get("LATCHKEY_LOG_LEVEL") or "info").lower(),
        mail_mode=(env.get("LATCHKEY_MAIL_MODE") or "console").lower(),
        mail_mode_given=bool(env.get("LATCHKEY_MAIL_MODE")),
        mail_from=env.get("LATCHKEY_MAIL_FROM") or DEFAULT_MAIL_FROM,
        mail_poll_seconds=_float(env, "LATCHKEY_MAIL_POLL_SECONDS", 5.0),
        smtp_host=env.get("LATCHKEY_SMTP_HOST") or None,
        # Implicit TLS has its own well-known port (RFC 8314 §3.3).
        smtp_port=_int(env, "LATCHKEY_SMTP_PORT", 465 if security == "tls" else 587),
        smtp_security=security,
        smtp_username=env.get("LATCHKEY_SMTP_USERNAME") or None,
        smtp_password=env.get("LATCHKEY_SMTP_PASSWORD") or None,
        webhooks=_on_off(env, "LATCHKEY_WEBHOOKS", default=True),
        webhook_poll_seconds=_float(env, "LATCHKEY_WEBHOOK_POLL_SECONDS", 1.0),
        metadata_check_seconds=_float(env, "LATCHKEY_METADATA_CHECK_SECONDS", 30.0),
        webhook_private_networks=(env.get("LATCHKEY_WEBHOOK_PRIVATE_NETWORKS") or "deny").lower(),
        access_log=_on_off(env, "LATCHKEY_ACCESS_LOG", default=None),
        trusted_proxies=tuple(
            p.strip() for p in (env.get("LATCHKEY_TRUSTED_PROXIES") or "").split(",") if p.strip()
        ),
    ).checked()
