"""Settings from the environment (LATCHKEY_*), each checked with an error naming the bad value."""

from __future__ import annotations

import binascii
import os
import re
import secrets
from base64 import urlsafe_b64decode, urlsafe_b64encode
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from latchkey.errors import ConfigError
from latchkey.store.engine import normalize_url

DEFAULT_DATABASE_URL = "sqlite:///./latchkey.db"
LOG_LEVELS = ("debug", "info", "warning", "error")


@dataclass(frozen=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    host: str = "127.0.0.1"
    port: int = 8000
    master_key: bytes | None = None
    master_key_file: str = "./latchkey.master-key"
    public_url: str | None = None
    # Challenge endpoints per client IP, LIMIT/SECONDS; counted in Redis when a URL is set.
    challenge_rate_limit: str = "30/60"
    redis_url: str | None = None
    max_body_bytes: int = 64 * 1024
    log_level: str = "info"

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
        if not re.fullmatch(r"[1-9][0-9]*/[1-9][0-9]*", self.challenge_rate_limit):
            raise ConfigError(
                f"LATCHKEY_CHALLENGE_RATE_LIMIT {self.challenge_rate_limit!r} is not"
                " LIMIT/SECONDS, e.g. 30/60"
            )
        if self.redis_url and not self.redis_url.startswith(("redis://", "rediss://")):
            raise ConfigError(f"LATCHKEY_REDIS_URL {self.redis_url!r} is not a redis:// URL")
        if self.log_level not in LOG_LEVELS:
            raise ConfigError(f"LATCHKEY_LOG_LEVEL {self.log_level!r} is not one of {LOG_LEVELS}")
        return self


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


def _public_url(raw: str | None) -> str | None:
    if not raw:
        return None
    if not raw.startswith(("https://", "http://localhost", "http://127.0.0.1")):
        raise ConfigError(
            f"LATCHKEY_PUBLIC_URL {raw!r} must be an https:// URL (http only for localhost)"
        )
    return raw.rstrip("/")


def load_or_create_master_key(path: str) -> bytes:
    """The development master key: kept in a file readable by its owner only, made on first use.
    Production sets LATCHKEY_MASTER_KEY from a secret store instead."""
    key_file = Path(path)
    if key_file.exists():
        raw = key_file.read_text().strip()
        return _master_key({"LATCHKEY_MASTER_KEY": raw}) or b""
    key = secrets.token_bytes(32)
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(urlsafe_b64encode(key).rstrip(b"=").decode() + "\n")
    return key


def from_env(env: Mapping[str, str] | None = None) -> Settings:
    env = os.environ if env is None else env
    return Settings(
        database_url=env.get("LATCHKEY_DATABASE_URL") or DEFAULT_DATABASE_URL,
        host=env.get("LATCHKEY_HOST") or "127.0.0.1",
        port=_int(env, "LATCHKEY_PORT", 8000),
        master_key=_master_key(env),
        master_key_file=env.get("LATCHKEY_MASTER_KEY_FILE") or "./latchkey.master-key",
        public_url=_public_url(env.get("LATCHKEY_PUBLIC_URL")),
        challenge_rate_limit=env.get("LATCHKEY_CHALLENGE_RATE_LIMIT") or "30/60",
        redis_url=env.get("LATCHKEY_REDIS_URL") or None,
        max_body_bytes=_int(env, "LATCHKEY_MAX_BODY_BYTES", 64 * 1024),
        log_level=(env.get("LATCHKEY_LOG_LEVEL") or "info").lower(),
    ).checked()
