"""A tenant's user directories (realms): the default one for the /v1 API, more by name."""

from __future__ import annotations

import re
from dataclasses import replace

from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from latchkey.errors import Conflict, InvalidRequest, NotFound
from latchkey.ids import new_id
from latchkey.models import Directory
from latchkey.runtime import Runtime
from latchkey.services import identifiers
from latchkey.store import directories as directory_store

DEFAULT_NAME = "default"
DEFAULT_IDENTIFIERS = {"email": "required"}
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


class DirectoryNotFound(NotFound):
    code = "directory_not_found"


class DirectoryExists(Conflict):
    code = "directory_exists"


def create_default(conn: Connection, rt: Runtime, tenant_id: str) -> Directory:
    return _add(conn, rt, tenant_id, DEFAULT_NAME, DEFAULT_IDENTIFIERS, is_default=True)


def _add(
    conn: Connection,
    rt: Runtime,
    tenant_id: str,
    name: str,
    schema: dict[str, str],
    *,
    is_default: bool,
) -> Directory:
    if not _NAME.match(name):
        raise InvalidRequest("a directory name is 1 to 64 letters, digits, '_', '.' or '-'")
    now = rt.now()
    directory = Directory(
        id=new_id(),
        tenant_id=tenant_id,
        name=name,
        is_default=is_default,
        identifiers=identifiers.check_schema(schema),
        settings={},
        created_at=now,
        updated_at=now,
    )
    try:
        with conn.begin_nested():
            directory_store.add(conn, directory)
    except IntegrityError as exc:
        raise DirectoryExists(f"the tenant already has a directory {name!r}") from exc
    return directory


def default_id(conn: Connection, tenant_id: str) -> str:
    found = directory_store.default_for(conn, tenant_id)
    if found is None:
        raise DirectoryNotFound("the tenant has no default directory")
    return found.id


def resolve(conn: Connection, tenant_id: str, realm: str | None) -> Directory:
    """The directory a request names by `realm`, or the tenant's default one."""
    found = (
        directory_store.by_name(conn, tenant_id, realm)
        if realm
        else directory_store.default_for(conn, tenant_id)
    )
    if found is None:
        raise DirectoryNotFound(f"no directory {realm!r}" if realm else "no default directory")
    return found


def create(rt: Runtime, tenant_id: str, name: str, schema: dict[str, str]) -> Directory:
    with rt.transaction() as conn:
        return _add(conn, rt, tenant_id, name, schema, is_default=False)


def set_identifiers(rt: Runtime, tenant_id: str, name: str, schema: dict[str, str]) -> Directory:
    with rt.transaction() as conn:
        found = resolve(conn, tenant_id, name)
        changed = replace(found, identifiers=identifiers.check_schema(schema), updated_at=rt.now())
        directory_store.save(conn, changed)
        return changed


def list_for(rt: Runtime, tenant_id: str) -> list[Directory]:
    with rt.read() as conn:
        return directory_store.for_tenant(conn, tenant_id)
