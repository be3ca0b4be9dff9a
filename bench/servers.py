"""Start and stop the servers under test, pinned to one core, and read their CPU time.

Latchkey is `latchkey serve` under `taskset -c <core>`; the peer is `node server.js` under the
same, from a copy of /work/shared/peers/simplewebauthn-fastify with its own `npm install`.
CPU time is utime+stime from /proc/<pid>/stat (all threads, plus any child processes);
PostgreSQL's is the sum over every process named `postgres` (its backends, WAL writer,
checkpointer), which runs wherever the kernel puts it, so it is reported on its own.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

PEER_SOURCE = Path("/work/shared/peers/simplewebauthn-fastify")
POSTGRES_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/test"
BENCH_ORIGIN = "http://localhost:8300"  # the relying party's web origin the "browser" is on
_TICK = os.sysconf("SC_CLK_TCK")
_TENANT = ("--rp-id", "localhost", "--rp-name", "Bench", "--origin")
BENCH_MASTER_KEY = secrets.token_urlsafe(32)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _ticks(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2 :].split()
    return int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with suppress(OSError):
            found += [int(c) for c in (task / "children").read_text().split()]
    return found


def process_cpu_seconds(pid: int) -> float:
    """CPU seconds used so far by this process, its threads and its live descendants."""
    total, pending = 0, [pid]
    while pending:
        current = pending.pop()
        total += _ticks(current) or 0
        pending += _children(current)
    return total / _TICK


def core_busy_seconds(cpu: int) -> float:
    """CPU seconds core `cpu` has spent on anything but idling, from /proc/stat."""
    for line in Path("/proc/stat").read_text().splitlines():
        if line.startswith(f"cpu{cpu} "):
            user, nice, system, _idle, _iowait, irq, softirq, steal = line.split()[1:9]
            return sum(int(v) for v in (user, nice, system, irq, softirq, steal)) / _TICK
    raise ValueError(f"no cpu{cpu} in /proc/stat")


def postgres_cpu() -> dict[int, int]:
    """Clock ticks used so far by each running `postgres` process, by pid."""
    found: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with suppress(OSError):
            if (entry / "comm").read_text().strip() == "postgres":
                ticks = _ticks(int(entry.name))
                if ticks is not None:
                    found[int(entry.name)] = ticks
    return found


def postgres_cpu_delta(before: dict[int, int], after: dict[int, int]) -> float:
    """CPU seconds the postgres processes used between two readings (new backends count
    from zero; a backend that exited in between is lost, so keep connections pooled)."""
    return sum(ticks - before.get(pid, 0) for pid, ticks in after.items()) / _TICK


def read_writer_stats(path: Path) -> tuple[int, int]:
    """(commit groups, jobs) the server's group writer has committed so far (0, 0 before the
    first; the file is rewritten at most ten times a second)."""
    try:
        groups, jobs = path.read_text().split()
    except (OSError, ValueError):
        return 0, 0
    return int(groups), int(jobs)


def wait_http(
    url: str, process: subprocess.Popen[bytes], *, log: Path, timeout: float = 60
) -> None:
    """Until `url` answers at all (any HTTP status) or the process dies."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = "\n".join(log.read_text(errors="replace").splitlines()[-15:])
            raise RuntimeError(f"{process.args!r} exited with {process.returncode}:\n{tail}")
        try:
            urllib.request.urlopen(url, timeout=1).close()  # noqa: S310 (our own server)
            return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {timeout:.0f} s")


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@dataclass(frozen=True)
class Running:
    name: str
    port: int
    pid: int
    tenant_id: str = ""
    secret: str = ""
    writer_stats: Path | None = None  # Latchkey's commit groups so far (see read_writer_stats)

    def cpu_seconds(self) -> float:
        return process_cpu_seconds(self.pid)


def create_tenant(database_url: str, origin: str) -> tuple[str, str]:
    """A tenant for RP ID localhost made with the CLI: (tenant id, secret key)."""
    done = subprocess.run(
        [sys.executable, "-m", "latchkey.cli", "tenant", "create", "--json", *_TENANT, origin],
        env={**os.environ, "LATCHKEY_DATABASE_URL": database_url},
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    created = json.loads(done.stdout)
    return created["id"], created["secret_key"]


@contextmanager
def latchkey_server(
    database_url: str, *, cpu: int | None, log: Path, tenant: tuple[str, str] | None = None
) -> Iterator[Running]:
    """`latchkey serve` on a free port; a new tenant unless one (id, secret) is given."""
    tenant_id, secret = tenant or create_tenant(database_url, BENCH_ORIGIN)
    port = free_port()
    pin = ["taskset", "-c", str(cpu)] if cpu is not None else []
    env = {**os.environ, "LATCHKEY_DATABASE_URL": database_url, "LATCHKEY_LOG_LEVEL": "warning"}
    # `serve` is production mode: it needs a master key (one per bench run will do), the address
    # it is reached at and a mail choice.
    env.setdefault("LATCHKEY_MASTER_KEY", BENCH_MASTER_KEY)
    env["LATCHKEY_PUBLIC_URL"] = f"http://localhost:{port}"
    env.setdefault("LATCHKEY_MAIL_MODE", "off")  # the benchmark sends no mail
    # The whole load comes from one address and one tenant: limits above it, still counted.
    env.update(
        LATCHKEY_CHALLENGE_RATE_LIMIT="100000000/60", LATCHKEY_TENANT_RATE_LIMIT="100000000/60"
    )
    # The group writer publishes its counts (groups, jobs) there, for the mean group size.
    stats = log.with_name(f"latchkey-bench-writer-{port}.txt")
    stats.unlink(missing_ok=True)
    env["LATCHKEY_BENCH_WRITER_STATS"] = str(stats)
    with log.open("ab") as out:
        process = subprocess.Popen(
            [*pin, sys.executable, "-m", "latchkey.cli", "serve", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_http(f"http://127.0.0.1:{port}/health", process, log=log)
        yield Running("latchkey", port, process.pid, tenant_id, secret, stats)
    finally:
        _stop(process)
        stats.unlink(missing_ok=True)


def peer_directory(source: Path = PEER_SOURCE) -> Path:
    """A copy of the peer with node_modules installed, in the temp dir (reused while the
    peer's package.json and server.js are unchanged)."""
    digest = hashlib.sha256()
    for name in ("package.json", "server.js"):
        digest.update((source / name).read_bytes())
    target = Path(tempfile.gettempdir()) / f"latchkey-bench-peer-{digest.hexdigest()[:12]}"
    if (target / "node_modules" / "fastify").is_dir():
        return target
    target.mkdir(parents=True, exist_ok=True)
    for name in ("package.json", "server.js"):
        shutil.copyfile(source / name, target / name)
    subprocess.run(
        ["npm", "install", "--no-audit", "--no-fund", "--omit=dev"],
        cwd=target,
        check=True,
        capture_output=True,
        timeout=600,
    )
    return target


@contextmanager
def peer_server(*, cpu: int | None, log: Path, origin: str = BENCH_ORIGIN) -> Iterator[Running]:
    directory = peer_directory()
    port = free_port()
    pin = ["taskset", "-c", str(cpu)] if cpu is not None else []
    env = {**os.environ, "PORT": str(port), "RP_ID": "localhost", "ORIGIN": origin}
    env["NODE_ENV"] = "production"
    with log.open("ab") as out:
        process = subprocess.Popen(
            [*pin, "node", "server.js"], cwd=directory, env=env, stdout=out, stderr=out
        )
    try:
        wait_http(f"http://127.0.0.1:{port}/", process, log=log)
        yield Running("peer", port, process.pid)
    finally:
        _stop(process)


@contextmanager
def postgres_database(name: str, admin_url: str = POSTGRES_ADMIN_URL) -> Iterator[str]:
    """A fresh database `name` on the admin URL's server, dropped afterwards; yields its URL."""
    url = create_postgres_database(name, admin_url)
    try:
        yield url
    finally:
        drop_postgres_database(name, admin_url)


def _admin(admin_url: str, statement: str, name: str) -> None:
    """Run CREATE/DROP DATABASE `statement` (a `{}` where the quoted name goes)."""
    import psycopg
    from psycopg import sql

    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL(statement).format(sql.Identifier(name)))


def create_postgres_database(name: str, admin_url: str = POSTGRES_ADMIN_URL) -> str:
    drop_postgres_database(name, admin_url)
    _admin(admin_url, "CREATE DATABASE {}", name)
    from sqlalchemy.engine import make_url

    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def drop_postgres_database(name: str, admin_url: str = POSTGRES_ADMIN_URL) -> None:
    _admin(admin_url, "DROP DATABASE IF EXISTS {} WITH (FORCE)", name)
