"""The adoption funnel's query time over a large event log (issue 20 §2).

    python -m bench.adoption_funnel --events 1000000                      # SQLite (a temp file)
    python -m bench.adoption_funnel --events 1000000 \\
        --postgres postgresql://postgres@127.0.0.1:5432/test               # and PostgreSQL

Loads one tenant's hosted sign-ins over 30 days (pages loaded, passkey sign-ins by method with
their ceremony events, password sign-ins, recoveries, the offer, failures) in two pools, plus
a second tenant's events, ~300 distinct User-Agent strings; then times services/adoption.py's
funnel for the tenant and for one pool, over 30 days and over 1 day, the first call (every
distinct User-Agent parsed) and again (parsed names cached): from the events alone, then after
the retention worker's rollup of the closed days (services/adoption_rollup.py; its time is
printed too), when a period reads its whole days' rollup and only its ends' events. It also
prints what parsing the User-Agent as each event is written would cost instead (ua-parser per
event, per string).
PostgreSQL runs in a schema of its own, dropped afterwards.
"""

from __future__ import annotations

import argparse
import random
import secrets
import statistics
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

from sqlalchemy import Engine, insert, text

from latchkey import event_kinds as kinds
from latchkey.runtime import Runtime
from latchkey.services import adoption, adoption_rollup, directories, tenants, user_agents
from latchkey.store import events as event_store
from latchkey.store import migrate
from latchkey.store.engine import make_engine
from latchkey.store.tables import credentials, events, users

DAYS = 30
USERS = 20_000
BATCH = 20_000
AAGUIDS = (
    ("fbfc3007-154e-4ecc-8c0b-6e020557d7bd", True),  # iCloud Keychain
    ("ea9b8d66-4d01-1d21-3ce4-b6b48cb575d4", True),  # Google Password Manager
    ("08987058-cadc-4b81-b6e1-30de50dcbe96", False),  # Windows Hello
    ("cb69481e-8ff7-4039-93ec-0a2729a154a8", False),  # YubiKey 5
    ("bada5566-a7aa-401f-bd96-45619a55120d", True),  # 1Password
)
# (kind, outcome, method, share of events): roughly a team half way off passwords.
MIX = (
    (kinds.POOL_PAGE_LOADED, "success", None, 0.30),
    (kinds.POOL_SIGNED_IN, "success", "autofill", 0.10),
    (kinds.POOL_SIGNED_IN, "success", "button", 0.05),
    (kinds.POOL_SIGNED_IN, "success", "identifier", 0.04),
    (kinds.PASSKEY_AUTHENTICATION, "success", None, 0.19),
    (kinds.POOL_PASSWORD_SIGN_IN, "success", "password", 0.10),
    (kinds.POOL_RECOVERED, "success", None, 0.01),
    (kinds.POOL_PASSKEY_OFFER_SHOWN, "success", None, 0.08),
    (kinds.POOL_PASSKEY_OFFER_ACCEPTED, "success", None, 0.03),
    (kinds.POOL_PASSKEY_OFFER_DECLINED, "success", None, 0.04),
    (kinds.PASSKEY_AUTHENTICATION, "failure", None, 0.03),
    (kinds.POOL_PASSWORD_SIGN_IN, "failure", None, 0.02),
    (kinds.POOL_RECOVERY_REQUESTED, "failure", None, 0.01),
)
REASONS = {
    kinds.PASSKEY_AUTHENTICATION: ("credential_not_found", "user_verification_required"),
    kinds.POOL_PASSWORD_SIGN_IN: ("invalid_credentials",),
    kinds.POOL_RECOVERY_REQUESTED: ("bot_check_failed",),
}


def user_agent_pool(rng: random.Random) -> list[str]:
    """~300 distinct strings: browsers and systems in the versions a month of traffic shows."""
    found = []
    for v in range(110, 140):
        found.append(
            f"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
            f"Chrome/{v}.0.0.0 Safari/537.36"
        )
        found.append(
            f"Mozilla/5.0 (Linux; Android {10 + v % 5}; Pixel {v % 9}) AppleWebKit/537.36 "
            f"(KHTML, like Gecko) Chrome/{v}.0.0.0 Mobile Safari/537.36"
        )
        found.append(f"Mozilla/5.0 (X11; Linux x86_64; rv:{v}.0) Gecko/20100101 Firefox/{v}.0")
        found.append(
            f"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
            f"Chrome/{v}.0.0.0 Safari/537.36 Edg/{v}.0.0.0"
        )
    for major in range(14, 19):
        for minor in range(0, 7):
            found.append(
                f"Mozilla/5.0 (iPhone; CPU iPhone OS {major}_{minor} like Mac OS X) "
                f"AppleWebKit/605.1.15 (KHTML, like Gecko) Version/{major}.{minor} "
                f"Mobile/15E148 Safari/604.1"
            )
            found.append(
                f"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 "
                f"(KHTML, like Gecko) Version/{major}.{minor} Safari/605.1.15"
            )
    while len(found) < 300:
        found.append(f"SomeApp/{rng.randint(1, 99)}.{len(found)} (okhttp/4.12)")
    return found


def seed(engine: Engine, count: int) -> tuple[Runtime, str, str, datetime]:
    """The tenant's id, one pool's id and the load's last moment."""
    rng = random.Random(20)
    rt = Runtime(engine=engine, master_key=secrets.token_bytes(32))
    tenant, _ = tenants.create(
        rt, rp_id="shop.example", rp_name="Shop", origins=["https://shop.example"]
    )
    other, _ = tenants.create(
        rt, rp_id="other.example", rp_name="Other", origins=["https://other.example"]
    )
    pools = [directories.create(rt, tenant.id, name, {"email": "required"}).id
             for name in ("customers", "staff")]  # fmt: skip
    end = datetime.now(UTC).replace(microsecond=0)
    start = end - timedelta(days=DAYS)
    people: list[tuple[str, str, str]] = []  # (user, pool, credential or "")
    user_rows, key_rows = [], []
    for i in range(USERS):
        user_id, pool = str(uuid.uuid4()), pools[0] if i % 10 else pools[1]
        user_rows.append({
            "id": user_id, "tenant_id": tenant.id, "directory_id": pool,
            "external_id": f"user-{i}", "user_handle": secrets.token_bytes(16),
            "username": f"user-{i}", "display_name": None, "profile": {},
            "created_at": start, "updated_at": start,
        })  # fmt: skip
        key = ""
        if i % 3:  # two in three have a passkey
            key = str(uuid.uuid4())
            aaguid, synced = AAGUIDS[i % len(AAGUIDS)]
            key_rows.append({
                "id": key, "tenant_id": tenant.id, "user_id": user_id,
                "credential_id": secrets.token_bytes(16), "public_key": b"k", "alg": -7,
                "sign_count": 0, "aaguid": aaguid, "fmt": "none", "transports": [],
                "backup_eligible": synced, "backup_state": synced, "user_verified": True,
                "discoverable": True, "attachment": None, "name": "key",
                "possible_clone": False, "created_at": start, "last_used_at": None,
            })  # fmt: skip
        people.append((user_id, pool, key))
    with engine.begin() as conn:
        conn.execute(insert(users), user_rows)
        conn.execute(insert(credentials), key_rows)
    agents = user_agent_pool(rng)
    weights = [share for *_, share in MIX]
    span = (end - start).total_seconds()
    made = 0
    while made < count:
        rows = []
        for _ in range(min(BATCH, count - made)):
            kind, outcome, method, _ = rng.choices(MIX, weights)[0]
            user_id, pool, key = rng.choice(people)
            if kind == kinds.POOL_SIGNED_IN and not key:
                kind, method = kinds.POOL_PASSWORD_SIGN_IN, "password"
            detail: dict[str, Any] = {"pool_id": pool}
            if method:
                detail["method"] = method
                detail["elapsed_ms"] = int(rng.lognormvariate(8, 0.8))
            rows.append({
                "id": str(uuid.uuid4()),
                # One event in ten is the other tenant's.
                "tenant_id": other.id if rng.random() < 0.1 else tenant.id,
                "kind": kind, "outcome": outcome,
                "reason": rng.choice(REASONS[kind]) if outcome == "failure" else None,
                "user_id": None if kind == kinds.POOL_PAGE_LOADED else user_id,
                "credential_id": key if key and kind in (
                    kinds.POOL_SIGNED_IN, kinds.PASSKEY_AUTHENTICATION) else None,
                "ip": "192.0.2.1", "user_agent": rng.choice(agents), "detail": detail,
                **event_store.columns_of(detail),
                # Written as time goes by: a log's rows are in time order.
                "created_at": start + timedelta(seconds=span * (made + len(rows)) / count),
            })  # fmt: skip
        with engine.begin() as conn:
            conn.execute(insert(events), rows)
        made += len(rows)
    with engine.begin() as conn:
        conn.execute(text("ANALYZE"))  # the planner's statistics, as a live database has them
    return rt, tenant.id, pools[0], end


def timed(call: Any, repeat: int = 3) -> tuple[float, float]:
    """Milliseconds of the first call and the median of the next `repeat`."""
    begun = time.perf_counter()
    call()
    first = (time.perf_counter() - begun) * 1000
    again = []
    for _ in range(repeat):
        begun = time.perf_counter()
        call()
        again.append((time.perf_counter() - begun) * 1000)
    return first, statistics.median(again)


def day_times(rt: Runtime, tenant_id: str, end: datetime) -> str:
    """Milliseconds a closed day's rollup takes: reading its events, then its transaction
    (what holds SQLite's other writers up)."""
    took = []
    for back in range(2, 7):
        day = (end - timedelta(days=back)).date()
        with rt.read() as conn:
            begun = time.perf_counter()
            found = adoption_rollup._read_day(conn, tenant_id, day)
            read = (time.perf_counter() - begun) * 1000
        begun = time.perf_counter()
        with rt.transaction() as conn:
            adoption_rollup._write_day(conn, tenant_id, day, found)
        took.append((read, (time.perf_counter() - begun) * 1000))
    reads, writes = [r for r, _ in took], [w for _, w in took]
    return (f"read (no lock) median {statistics.median(reads):.0f} ms; its write transaction "
            f"median {statistics.median(writes):.0f} ms, at most {max(writes):.0f} ms")  # fmt: skip


def measure(engine: Engine, count: int, label: str) -> None:
    begun = time.perf_counter()
    migrate.upgrade(engine)
    rt, tenant_id, pool_id, end = seed(engine, count)
    loaded = time.perf_counter() - begun
    print(f"\n## {label}: {count:,} events loaded in {loaded:.0f} s")
    queries = (
        ("tenant, 30 days", end - timedelta(days=DAYS), None),
        ("one pool, 30 days", end - timedelta(days=DAYS), pool_id),
        ("tenant, 1 day", end - timedelta(days=1), None),
    )
    found: dict[str, list[adoption.Adoption]] = {name: [] for name, *_ in queries}
    times: dict[str, list[tuple[float, float]]] = {name: [] for name, *_ in queries}
    for step in ("events", "rollup"):
        if step == "rollup":
            begun = time.perf_counter()
            rolled = adoption_rollup.roll_up(rt)
            took = time.perf_counter() - begun
            print(f"rollup of {sum(rolled.values())} tenant-days (one transaction each): "
                  f"{took:.1f} s")  # fmt: skip
            print(f"one day of the tenant's (~{count * 9 // 10 // DAYS:,} events) rolled up "
                  f"again: {day_times(rt, tenant_id, end)}")  # fmt: skip
            again = time.perf_counter()
            adoption_rollup.roll_up(rt)
            print(f"the next pass (the last {adoption_rollup.REROLL_DAYS} days again): "
                  f"{time.perf_counter() - again:.1f} s")  # fmt: skip
        for name, since, pool in queries:
            user_agents.platform.cache_clear()

            def run(since: datetime = since, pool: str | None = pool, name: str = name) -> None:
                found[name].append(
                    adoption.funnel(rt, tenant_id, since=since, until=end, pool_id=pool)
                )

            times[name].append(timed(run))
    print("| query | events only: first / again (ms) | with the rollup: first / again (ms) "
          "| sign-ins counted | same figures |")  # fmt: skip
    print("|---|---:|---:|---:|---|")
    for name, _, _ in queries:
        (raw_first, raw_again), (rolled_first, rolled_again) = times[name]
        figures = found[name]
        same = "yes" if all(f == figures[0] for f in figures) else "NO"
        print(f"| {name} | {raw_first:.0f} / {raw_again:.0f} | {rolled_first:.0f} / "
              f"{rolled_again:.0f} | {figures[-1].sign_ins:,} | {same} |")  # fmt: skip


def parse_costs() -> None:
    """What parsing at record time would add to each sign-in, against the query's parse."""
    agents = user_agent_pool(random.Random(20))
    user_agents.platform.cache_clear()
    from ua_parser import Domain, load_builtins
    from ua_parser.regex import Resolver

    # No cache: what each new string costs (the service parses each distinct one once).
    resolver = Resolver(load_builtins())
    resolver(agents[0], Domain.ALL)
    begun = time.perf_counter()
    for agent in agents:
        resolver(agent, Domain.USER_AGENT | Domain.OS)
    each = (time.perf_counter() - begun) / len(agents) * 1e6
    print("\n## Parsing the User-Agent (ua-parser with its Rust matcher)")
    print(f"- per string, uncached: {each:.0f} µs")
    print(f"- the query's parse: once per distinct string, {len(agents)} here: "
          f"{each * len(agents) / 1000:.1f} ms per figures asked for (then cached)")  # fmt: skip
    print(f"- at record time: {each:.0f} µs on every event written (or a cache per process), "
          f"and every event's detail larger")  # fmt: skip


@contextmanager
def postgres_engine(url: str) -> Iterator[Engine]:
    schema = f"lk_bench_{secrets.token_hex(4)}"
    admin = make_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in url else "?"
    engine = make_engine(f"{url}{separator}options=-csearch_path%3D{schema}")
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--postgres", help="also on PostgreSQL at this URL")
    parser.add_argument("--no-sqlite", action="store_true")
    args = parser.parse_args(argv)
    if not args.no_sqlite:
        with TemporaryDirectory() as folder:
            engine = make_engine(f"sqlite:///{Path(folder) / 'funnel.db'}")
            measure(engine, args.events, "SQLite")
            engine.dispose()
    if args.postgres:
        with postgres_engine(args.postgres) as engine:
            measure(engine, args.events, "PostgreSQL")
    parse_costs()
    return 0


if __name__ == "__main__":
    sys.exit(main())
