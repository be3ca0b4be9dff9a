"""CPU per sign-in ceremony by layer, in one process, without the network or a second core.

    .venv/bin/python -m bench.inprocess [--ceremonies 2000] [--concurrency 16]
        [--database sqlite|postgresql] [--profile FILE.prof] [--layer services|asgi]
        [--steps full|two-step]

`services` calls the service functions the three routes call (tenant resolution, origin check,
options, verify, validate) in a loop on one thread; `asgi` drives the ASGI application exactly
as uvicorn would (same scope, same body, same response events) from C concurrent tasks on one
event loop, so the difference is what Litestar, the middleware and the thread hop cost.
`--steps two-step` leaves /v1/validate out of the asgi layer, as bench.signin's options→verify
rows do. Every ceremony is checked (isVerified, and isValid when validated), as in
bench.signin. The process's CPU time (all threads) ÷ ceremonies is printed for each layer. Not
a substitute for bench.signin's HTTP figures: it leaves out uvicorn's HTTP parsing and the
socket system calls.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import resource
import tempfile
import time
from base64 import b64encode
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

from bench.credentials import BenchCredential, synced_authenticator
from bench.servers import BENCH_ORIGIN
from latchkey import config
from latchkey.api.app import create_app
from latchkey.runtime import RequestMeta, Runtime
from latchkey.runtime.ratelimit import Limiter, MemoryCounter, Rule
from latchkey.services import actions, tenants, web
from latchkey.store import migrate
from latchkey.store.engine import make_engine

Headers = list[tuple[bytes, bytes]]


class AsgiClient:
    """Calls an ASGI app the way uvicorn's httptools protocol does, minus the socket."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def post(self, path: str, body: bytes, headers: Headers) -> tuple[int, bytes]:
        scope = {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": "1.1",
            "server": ("127.0.0.1", 8000),
            "client": ("127.0.0.1", 50000),
            "scheme": "http",
            "method": "POST",
            "root_path": "",
            "path": path,
            "raw_path": path.encode(),
            "query_string": b"",
            "headers": [
                (b"host", b"127.0.0.1:8000"),
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *headers,
            ],
            "state": {},
        }
        sent = False
        status = 0
        chunks: list[bytes] = []

        async def receive() -> dict[str, Any]:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            await asyncio.Event().wait()  # pragma: no cover (a disconnect never comes)
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self.app(scope, receive, send)
        return status, b"".join(chunks)


def _ok(status: int, body: bytes) -> dict[str, Any]:
    if status != 200:
        raise RuntimeError(f"HTTP {status}: {body[:300]!r}")
    answer: dict[str, Any] = orjson.loads(body)
    return answer


class Setup:
    def __init__(self, database_url: str, users: int) -> None:
        self.settings = config.Settings(database_url=database_url, master_key=b"\0" * 32)
        # One address and one tenant make the whole load: limits above it, still counted.
        self.rt = Runtime(
            engine=make_engine(database_url),
            master_key=b"\0" * 32,
            limiter=Limiter(MemoryCounter(), per_ip=Rule(10**9, 60), per_tenant=Rule(10**9, 60)),
        )
        migrate.upgrade(self.rt.engine)
        self.tenant, self.secret = tenants.create(
            self.rt, rp_id="localhost", origins=[BENCH_ORIGIN], name="bench"
        )
        self.app = create_app(self.rt, self.settings)
        self.client = AsgiClient(self.app)
        self.users = users
        self.credentials: list[BenchCredential] = []
        tenant_basic = "Basic " + b64encode(self.tenant.id.encode()).decode()
        self.client_headers: Headers = [
            (b"authorization", tenant_basic.encode()),
            (b"origin", BENCH_ORIGIN.encode()),
        ]
        secret_basic = "Basic " + b64encode(f"{self.secret}:".encode()).decode()
        self.backend_headers: Headers = [(b"authorization", secret_basic.encode())]

    async def enroll(self) -> None:
        for i in range(self.users):
            name = f"inproc-{i:05d}"
            status, body = await self.client.post(
                f"/v1/users/{name}/actions/signup",
                orjson.dumps({"username": name}),
                self.backend_headers,
            )
            token = _ok(status, body)["token"]
            headers = [(b"authorization", f"Bearer {token}".encode()), self.client_headers[1]]
            status, body = await self.client.post(
                "/v1/client/user-authenticators/passkey/registration-options", b"{}", headers
            )
            begun = _ok(status, body)
            authenticator = synced_authenticator()
            created = authenticator.create(begun["options"], origin=BENCH_ORIGIN)
            request = {"registrationCredential": created, "challengeId": begun["challengeId"]}
            _ok(
                *await self.client.post(
                    "/v1/client/user-authenticators/passkey", orjson.dumps(request), headers
                )
            )
            (soft,) = authenticator.credentials.values()
            self.credentials.append(
                BenchCredential.from_soft(soft, username=name, origin=BENCH_ORIGIN)
            )

    async def asgi_ceremony(self, credential: BenchCredential, *, validate: bool = True) -> None:
        status, body = await self.client.post(
            "/v1/client/user-authenticators/passkey/authentication-options",
            b"{}",
            self.client_headers,
        )
        begun = _ok(status, body)
        assertion = credential.assertion(begun["options"]["challenge"])
        request = {"authenticationCredential": assertion, "challengeId": begun["challengeId"]}
        verified = _ok(
            *await self.client.post(
                "/v1/client/verify/passkey", orjson.dumps(request), self.client_headers
            )
        )
        if not validate:
            return
        token = orjson.dumps({"token": verified["accessToken"]})
        checked = _ok(*await self.client.post("/v1/validate", token, self.backend_headers))
        if checked.get("isValid") is not True:
            raise RuntimeError("not valid")

    def services_ceremony(self, credential: BenchCredential) -> None:
        rt = self.rt
        tenant = tenants.get(rt, self.tenant.id)
        if BENCH_ORIGIN not in tenant.web_origins:
            raise RuntimeError("origin")
        begun = web.sign_in_options(rt, tenant, token_action=None, challenge_id=None)
        assertion = credential.assertion(begun.options["challenge"])
        # The wire form: the routes get the credential decoded from JSON.
        assertion = orjson.loads(orjson.dumps(assertion))
        done = web.sign_in(
            rt,
            tenant,
            token_action=None,
            challenge_id=begun.challenge_id,
            credential=assertion,
            meta=RequestMeta(ip="127.0.0.1", user_agent=None),
        )
        checked = actions.validate(rt, tenants.get(rt, self.tenant.id), done.token)
        if not checked.is_valid:
            raise RuntimeError("not valid")


def _signing_cpu(credentials: list[BenchCredential], n: int) -> float:
    """The generator's own share (the assertion's ECDSA signature), to subtract."""
    start = time.process_time()
    for i in range(n):
        credentials[i % len(credentials)].assertion("A" * 43)
    return time.process_time() - start


def _cpu() -> tuple[float, float]:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime, usage.ru_stime


def run_services(setup: Setup, n: int, profile: cProfile.Profile | None) -> tuple[float, float]:
    creds = setup.credentials
    for i in range(50):
        setup.services_ceremony(creds[i % len(creds)])
    user, system = _cpu()
    if profile:
        profile.enable()
    for i in range(n):
        setup.services_ceremony(creds[i % len(creds)])
    if profile:
        profile.disable()
    user_after, system_after = _cpu()
    return user_after - user, system_after - system


async def run_asgi(
    setup: Setup, n: int, concurrency: int, *, validate: bool = True
) -> tuple[float, float]:
    # As the server's lifespan does: the group writer runs on this loop (SQLite).
    setup.rt.attach_writer(asyncio.get_running_loop())
    creds = setup.credentials
    per = max(1, n // concurrency)

    async def lane(k: int, count: int) -> None:
        mine = creds[k::concurrency] or creds
        for i in range(count):
            await setup.asgi_ceremony(mine[i % len(mine)], validate=validate)

    await asyncio.gather(*(lane(k, 5) for k in range(concurrency)))
    user, system = _cpu()
    await asyncio.gather(*(lane(k, per) for k in range(concurrency)))
    user_after, system_after = _cpu()
    return user_after - user, system_after - system


_SEEN: dict[str, list[float]] = {}


def _show(label: str, user: float, system: float, n: int) -> None:
    total = (user + system) / n * 1e6
    _SEEN.setdefault(label, []).append(total)
    print(
        f"{label:<10}: {total:6,.0f} µs CPU/ceremony"
        f" (user {user / n * 1e6:,.0f}, system {system / n * 1e6:,.0f})"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ceremonies", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--layer", choices=("services", "asgi", "both"), default="both")
    parser.add_argument("--users", type=int, help="passkeys enrolled (default max(64, 4 C))")
    parser.add_argument("--repeat", type=int, default=1, help="run each layer this many times")
    parser.add_argument("--profile", type=Path, help="cProfile the services layer into FILE")
    parser.add_argument(
        "--steps",
        choices=("full", "two-step"),
        default="full",
        help="asgi layer: with /v1/validate, or options→verify only",
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        if args.database == "sqlite":
            url = f"sqlite:///{tmp}/inprocess.db"
        else:
            url = os.environ.get(
                "LATCHKEY_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/latchkey_inprocess"
            )
        setup = Setup(url, users=args.users or max(64, args.concurrency * 4))
        import uvloop

        runner: Callable[[Any], Any] = uvloop.run  # type: ignore[assignment]
        runner(setup.enroll())
        n = args.ceremonies
        signing = _signing_cpu(setup.credentials, n)
        print(f"generator signing: {signing / n * 1e6:,.0f} µs/ceremony (subtracted below)")
        for _ in range(args.repeat):
            if args.layer in ("services", "both"):
                profile = cProfile.Profile() if args.profile else None
                user, system = run_services(setup, n, profile)
                _show("services", user - signing, system, n)
                if profile and args.profile:
                    profile.dump_stats(args.profile)
            if args.layer in ("asgi", "both"):
                per = n // args.concurrency * args.concurrency
                validate = args.steps == "full"
                user, system = runner(run_asgi(setup, n, args.concurrency, validate=validate))
                label = f"asgi C={args.concurrency}" + ("" if validate else " 2-step")
                _show(label, user - signing * per / n, system, per)
        for label, values in sorted(_SEEN.items()):
            values.sort()
            print(f"{label:<10}: min {values[0]:,.0f}  median {values[len(values) // 2]:,.0f} µs")
        setup.rt.engine.dispose()


if __name__ == "__main__":
    main()
