"""What a newcomer gets wrong when starting Latchkey (the database cannot be reached, its role or
database is missing, an SQLite file in a folder that does not exist, the port taken), each said
in one line that names the value and what to do: a ConfigError, so the CLI exits 2 without a
traceback."""

from __future__ import annotations

import errno
import re
import socket
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from latchkey.errors import ConfigError

_FIX_URL = "fix LATCHKEY_DATABASE_URL (or --database-url)"


def shown_url(url: str) -> str:
    """The database URL as it may be printed: no password."""
    return make_url(url).render_as_string(hide_password=True)


def check_sqlite_folder(url: str) -> None:
    """SQLite makes the file, not the folders above it: say which folder is missing."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return
    folder = Path(parsed.database).parent
    if not folder.is_dir():
        raise ConfigError(
            f"the folder {str(folder)!r} of the SQLite database {parsed.database!r} does not"
            f" exist: create it (mkdir -p {folder}) or {_FIX_URL}"
        )


def database_problem(url: str, exc: DBAPIError) -> ConfigError:
    """The driver's complaint on connecting, as one line naming the value and the fix."""
    shown = shown_url(url)
    detail = str(exc.orig) if exc.orig is not None else str(exc)
    found = re.search(r'role "([^"]+)" does not exist', detail)
    if found:
        return ConfigError(
            f"the database server at {shown} has no role {found[1]!r}: create it"
            f" (createuser {found[1]}) or name an existing user in LATCHKEY_DATABASE_URL"
        )
    found = re.search(r'database "([^"]+)" does not exist', detail)
    if found:
        return ConfigError(
            f"the database server at {shown} has no database {found[1]!r}: create it"
            f" (createdb {found[1]}) or {_FIX_URL}"
        )
    found = re.search(r'password authentication failed for user "([^"]+)"', detail)
    if found:
        return ConfigError(
            f"the database server at {shown} refused the password of {found[1]!r}: {_FIX_URL}"
        )
    found = re.search(r"failed to resolve host '([^']+)'", detail)
    if found:
        return ConfigError(
            f"cannot reach the database at {shown}: there is no host {found[1]!r}; {_FIX_URL}"
        )
    if "Connection refused" in detail:
        return ConfigError(
            f"cannot reach the database at {shown} (connection refused): start the database"
            f" server there or {_FIX_URL}"
        )
    if "timeout" in detail.lower():
        return ConfigError(
            f"cannot reach the database at {shown} (no answer in time): check that the server"
            f" runs and the network lets you through, or {_FIX_URL}"
        )
    first_line = detail.strip().splitlines()[0] if detail.strip() else type(exc.orig).__name__
    return ConfigError(f"cannot use the database at {shown}: {first_line}; check it or {_FIX_URL}")


def check_port(host: str, port: int, option: str) -> None:
    """Bind the address the way uvicorn will (SO_REUSEADDR), to tell a taken port apart before
    anything starts."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            raise _port_problem(host, port, option, exc) from exc


def _port_problem(host: str, port: int, option: str, exc: OSError) -> ConfigError:
    if exc.errno == errno.EADDRINUSE:
        return ConfigError(
            f"port {port} on {host} is already in use (another Latchkey or another program"
            f" listens there): stop it or choose another port with {option}"
        )
    if exc.errno == errno.EACCES:
        return ConfigError(
            f"port {port} on {host} needs privileges this process lacks: choose a port above"
            f" 1023 with {option}"
        )
    if isinstance(exc, socket.gaierror) or exc.errno == errno.EADDRNOTAVAIL:
        return ConfigError(
            f"cannot listen on {host!r}: it is not an address of this machine; fix --host or"
            " LATCHKEY_HOST"
        )
    return ConfigError(f"cannot listen on {host}:{port}: {exc.strerror or exc}; fix {option}")
