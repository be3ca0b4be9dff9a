"""Bring a database to the newest schema with Alembic (the only way Latchkey creates tables)."""

from __future__ import annotations

from importlib.resources import files

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(files("latchkey.store").joinpath("migrations")))
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    config = _config()
    with engine.connect() as connection:
        raw = connection.connection.dbapi_connection
        sqlite = connection.dialect.name == "sqlite"
        # SQLite alters a table by copying it and dropping the old one; with foreign keys on,
        # that drop would cascade into every child table. Off while migrating (outside any
        # transaction, where SQLite honours it), then the whole result is checked.
        if sqlite and raw is not None:
            raw.execute("PRAGMA foreign_keys=OFF")
        try:
            with connection.begin():
                config.attributes["connection"] = connection
                command.upgrade(config, revision)
                if sqlite:
                    _check_foreign_keys(connection)
        finally:
            if sqlite and raw is not None:
                raw.execute("PRAGMA foreign_keys=ON")


def _check_foreign_keys(connection: Connection) -> None:
    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if broken:
        raise RuntimeError(f"the migration left rows pointing nowhere: {broken[:5]}")


def is_current(engine: Engine) -> bool:
    head = ScriptDirectory.from_config(_config()).get_current_head()
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision() == head
