"""Shared fixtures: a migrated database on SQLite and, when configured, on PostgreSQL."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from litestar.testing import TestClient
from sqlalchemy import Engine

from latchkey.api.app import create_app
from latchkey.config import Settings
from latchkey.models import Tenant
from latchkey.runtime import Runtime
from latchkey.services import tenants, webhooks
from latchkey.store.engine import make_engine
from tests.support.clock import FakeClock
from tests.support.database import (
    BACKENDS,
    NO_POSTGRES,
    POSTGRES_URL,
    PostgresSchemas,
    copy_sqlite,
    migrated_sqlite,
    postgres_schema,
)
from tests.web_parties import ORIGIN, Backend, Browser

# One master key for the test run, inherited by servers the tests start (no key file on disk).
os.environ.setdefault("LATCHKEY_MASTER_KEY", secrets.token_urlsafe(32))


def _postgres_engine() -> Iterator[Engine]:
    with postgres_schema() as url:
        engine = make_engine(url)
        try:
            yield engine
        finally:
            engine.dispose()


@pytest.fixture(params=BACKENDS)
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "postgresql":
        yield from _postgres_engine()
        return
    created = make_engine(f"sqlite:///{tmp_path / 'latchkey.db'}")
    yield created
    created.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return migrated_sqlite(tmp_path_factory.mktemp("template"))


@pytest.fixture(scope="session")
def postgres_schemas() -> Iterator[PostgresSchemas]:
    if not POSTGRES_URL:
        pytest.skip(NO_POSTGRES)
    schemas = PostgresSchemas(POSTGRES_URL)
    yield schemas
    schemas.close()


@pytest.fixture(params=BACKENDS)
def migrated_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A database at the newest schema with no rows, on each backend, without migrating one per
    test: on SQLite a copy of a file migrated once per session; on PostgreSQL a schema migrated
    once per session and truncated after each test (tests/support/database.py)."""
    if request.param == "postgresql":
        schemas: PostgresSchemas = request.getfixturevalue("postgres_schemas")
        with schemas.schema() as url:
            created = make_engine(url)
            yield created
            created.dispose()
        return
    path = tmp_path / "latchkey.db"
    copy_sqlite(request.getfixturevalue("sqlite_template"), path)
    created = make_engine(f"sqlite:///{path}")
    yield created
    created.dispose()


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database URL for a command or a server to open itself, on each backend."""
    if request.param == "postgresql":
        with postgres_schema() as url:
            yield url
    else:
        yield f"sqlite:///{tmp_path / 'cli.db'}"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def rt(migrated_engine: Engine, clock: FakeClock) -> Runtime:
    key = secrets.token_bytes(32)
    # Wired as the app and the CLI wire it: a recorded event queues its webhooks.
    return Runtime(
        engine=migrated_engine, clock=clock, master_key=key, on_event=webhooks.enqueue_for_event
    )


@pytest.fixture
def tenant_and_secret(rt: Runtime) -> tuple[Tenant, str]:
    return tenants.create(rt, rp_id="localhost", rp_name="Test", origins=[ORIGIN])


# The app without its mail and webhook workers: tests read the outboxes and drive the workers
# themselves, and a running worker would race them for the rows they read. A test of what the
# app's own workers do builds its app with them (test_webhooks, test_mail).
QUIET = Settings(mail_mode="off", webhooks=False)


@pytest.fixture
def client(rt: Runtime) -> Iterator[TestClient]:
    app = create_app(rt, QUIET)
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def backend(client: TestClient, tenant_and_secret: tuple[Tenant, str]) -> Backend:
    return Backend(client, tenant_and_secret[1])


@pytest.fixture
def browser(client: TestClient, tenant_and_secret: tuple[Tenant, str]) -> Browser:
    return Browser(client, tenant_and_secret[0].id)
