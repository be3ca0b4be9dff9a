"""The databases tests run on: SQLite always, PostgreSQL when LATCHKEY_TEST_POSTGRES_URL names
one (each test in a fresh schema, dropped afterwards)."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import text

from latchkey.store.engine import make_engine

POSTGRES_URL = os.environ.get("LATCHKEY_TEST_POSTGRES_URL")
NO_POSTGRES = (
    "PostgreSQL tests skipped: set LATCHKEY_TEST_POSTGRES_URL"
    " (e.g. postgresql://postgres@127.0.0.1:5432/test) to run them"
)
BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@contextmanager
def postgres_schema() -> Iterator[str]:
    """A database URL whose connections work in a fresh schema, dropped afterwards."""
    if not POSTGRES_URL:
        pytest.skip(NO_POSTGRES)
    schema = f"lk_test_{secrets.token_hex(6)}"
    admin = make_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in POSTGRES_URL else "?"
    try:
        yield f"{POSTGRES_URL}{separator}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
