"""Configuration from the environment: good values load, bad ones name themselves."""

from __future__ import annotations

from pathlib import Path

import pytest

from latchkey.config import DEFAULT_DATABASE_URL, from_env, load_or_create_master_key
from latchkey.errors import ConfigError
from latchkey.store.engine import normalize_url


def test_defaults() -> None:
    settings = from_env({})
    assert settings.database_url == DEFAULT_DATABASE_URL
    assert settings.port == 8000
    assert settings.master_key is None


def test_values() -> None:
    settings = from_env(
        {
            "LATCHKEY_DATABASE_URL": "postgresql://u@db/latchkey",
            "LATCHKEY_PORT": "9000",
            "LATCHKEY_MASTER_KEY": "A" * 43,
            "LATCHKEY_LOG_LEVEL": "DEBUG",
        }
    )
    assert settings.port == 9000
    assert settings.master_key == bytes(32)
    assert settings.log_level == "debug"


@pytest.mark.parametrize(
    ("env", "says"),
    [
        ({"LATCHKEY_PORT": "eighty"}, "LATCHKEY_PORT='eighty' is not an integer"),
        ({"LATCHKEY_PORT": "70000"}, "not a TCP port"),
        ({"LATCHKEY_MASTER_KEY": "c2hvcnQ"}, "32 random bytes"),
        ({"LATCHKEY_MASTER_KEY": "%%%%"}, "base64url"),
        ({"LATCHKEY_DATABASE_URL": "mysql://x/y"}, "'mysql' is not one of"),
        ({"LATCHKEY_DATABASE_URL": "not a url"}, "cannot be parsed"),
        ({"LATCHKEY_LOG_LEVEL": "loud"}, "LATCHKEY_LOG_LEVEL"),
        ({"LATCHKEY_MAX_BODY_BYTES": "10"}, "LATCHKEY_MAX_BODY_BYTES"),
        ({"LATCHKEY_CHALLENGE_RATE_LIMIT": "lots"}, "LIMIT/SECONDS"),
        ({"LATCHKEY_REDIS_URL": "http://x"}, "not a redis:// URL"),
        ({"LATCHKEY_PUBLIC_URL": "http://example.com"}, "must be an https:// URL"),
        ({"LATCHKEY_PUBLIC_URL": "http://localhost.example.com"}, "must be an https:// URL"),
        ({"LATCHKEY_PUBLIC_URL": "auth.example.com"}, "must be an https:// URL"),
        ({"LATCHKEY_PUBLIC_URL": "https://auth.example.com/?x=1"}, "host and optional path"),
    ],
)
def test_bad_values(env: dict[str, str], says: str) -> None:
    with pytest.raises(ConfigError) as error:
        from_env(env)
    assert says in error.value.message


def test_postgres_urls_use_psycopg3() -> None:
    assert normalize_url("postgresql://u@h/db").startswith("postgresql+psycopg://")
    assert normalize_url("sqlite:///./x.db") == "sqlite:///./x.db"


def test_development_master_key_file(tmp_path: Path) -> None:
    path = tmp_path / "latchkey.master-key"
    made = load_or_create_master_key(str(path))
    assert len(made) == 32
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert load_or_create_master_key(str(path)) == made
