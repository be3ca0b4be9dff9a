"""The sign-in load generator (bench/): short real runs against a live server, plus its parts."""

from __future__ import annotations

import asyncio
import hashlib
import secrets
from base64 import urlsafe_b64decode
from collections import Counter
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from bench import keyfile, seed, servers
from bench.cell import Probes, run_cell
from bench.credentials import BenchCredential, synced_authenticator
from bench.histogram import LatencyHistogram
from bench.httpclient import _parse, connector
from bench.report import CellResult, ratio_lines, table
from bench.targets import FULL, TWO_STEP, LatchkeyTarget, enroll
from tests.live_server import live_server

ORIGIN = "http://localhost:8300"


def _decode(value: str) -> bytes:
    return urlsafe_b64decode(value + "=" * (-len(value) % 4))


def test_assertion_is_what_the_soft_authenticator_makes() -> None:
    authenticator = synced_authenticator()
    options = {
        "rp": {"id": "localhost", "name": "Bench"},
        "user": {"id": "dXNlcg", "name": "user", "displayName": "user"},
        "challenge": "c2lnbi11cA",
        "pubKeyCredParams": [{"type": "public-key", "alg": -7}],
    }
    authenticator.create(options, origin=ORIGIN)
    (soft,) = authenticator.credentials.values()
    held = BenchCredential.from_soft(soft, username="user", origin=ORIGIN)
    challenge = secrets.token_urlsafe(32)
    ours = held.assertion(challenge)
    theirs = authenticator.get({"challenge": challenge, "rpId": "localhost"}, origin=ORIGIN)
    signature = ours["response"].pop("signature")
    theirs["response"].pop("signature")
    assert ours == theirs
    signed = (
        _decode(ours["response"]["authenticatorData"])
        + hashlib.sha256(_decode(ours["response"]["clientDataJSON"])).digest()
    )
    public = soft.private_key.public_key()
    assert isinstance(public, ec.EllipticCurvePublicKey)
    public.verify(_decode(signature), signed, ec.ECDSA(hashes.SHA256()))


def test_histogram_reads_percentiles_within_one_percent() -> None:
    histogram = LatencyHistogram()
    for ms in range(1, 1001):
        histogram.record(ms * 1_000_000)
    p50, p99 = histogram.percentile_ms(50), histogram.percentile_ms(99)
    assert p50 is not None
    assert abs(p50 - 500) <= 5
    assert p99 is not None
    assert abs(p99 - 990) <= 10
    assert histogram.percentile_ms(100) == 1000
    assert "#" in histogram.render()


def _cell(target: str, rate: int, round_: int) -> CellResult:
    steps = TWO_STEP if target == "latchkey" else "options→verify"
    database = "sqlite" if target == "latchkey" else "memory"
    return CellResult(target, database, steps, 16, rate, 1.0, LatencyHistogram(), 0.1, round=round_)


def test_rounds_are_paired_by_round_and_summed_up_by_their_median() -> None:
    cells = [
        _cell("peer", 1000, 1),
        _cell("latchkey", 700, 1),
        _cell("latchkey", 900, 2),
        _cell("peer", 1000, 2),
        _cell("peer", 2000, 3),
        _cell("latchkey", 1600, 3),
    ]
    lines = ratio_lines(cells)
    assert lines[:3] == [
        "latchkey/peer (options→verify) at C=16 [sqlite] round 1: 0.70",
        "latchkey/peer (options→verify) at C=16 [sqlite] round 2: 0.90",
        "latchkey/peer (options→verify) at C=16 [sqlite] round 3: 0.80",
    ]
    assert lines[3] == (
        "latchkey/peer (options→verify) at C=16 [sqlite], median of 3 rounds: 0.80"
        " (lowest 0.70, highest 0.90)"
    )
    assert "| latchkey #2 |" in table(cells)
    # One round: the lines and the table as before.
    assert ratio_lines(cells[:2]) == ["latchkey/peer (options→verify) at C=16 [sqlite]: 0.70"]
    assert "| latchkey |" in table(cells[:2])


def test_http_parser_reads_length_and_chunked_answers() -> None:
    buffer = bytearray(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}HTTP/1.1 404 No\r\n")
    assert _parse(buffer) == (200, b"{}", True)
    assert _parse(buffer) is None  # the next answer is not complete yet
    chunked = bytearray(
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
        b"3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"
    )
    assert _parse(chunked) == (200, b"abcde", False)
    assert chunked == bytearray()


def _check(cell: CellResult) -> None:
    assert cell.errors == Counter()
    assert cell.ceremonies > 0
    printed = table([cell])
    assert "ceremonies/s" in printed
    assert "| latchkey" in printed


def test_two_seconds_at_c2_against_a_live_server(tmp_path: Path) -> None:
    with live_server(tmp_path) as server:
        target = LatchkeyTarget(server.tenant_id, server.secret, server.url)
        connect = connector("raw", "127.0.0.1", server.port)

        async def scenario() -> CellResult:
            held = await enroll(connect, target, 4, parallel=2)
            return await run_cell(
                target, held, connect, concurrency=2, duration=2, warmup=0.3, database="sqlite"
            )

        cell = asyncio.run(scenario())
    assert cell.steps == FULL
    _check(cell)


def test_seeded_passkeys_sign_in_for_real(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'seeded.db'}"
    keys = [f"{ec.generate_private_key(ec.SECP256R1()).private_numbers().private_value:064x}"]
    plan = keyfile.Plan(url, 2, 5, keys * 2, secrets.token_bytes(32), ORIGIN)
    made = seed.seed(plan, progress=False)
    key_file = tmp_path / "keys.json"
    keyfile.write_key_file(key_file, plan, made)
    seeded = keyfile.load_seeded(key_file, tenant=1, count=4)
    assert seeded.total == 10
    assert len(seeded.credentials) == 4
    tenant = (seeded.tenant_id, seeded.secret)
    with servers.latchkey_server(url, cpu=None, log=tmp_path / "server.log", tenant=tenant) as lk:
        target = LatchkeyTarget(seeded.tenant_id, seeded.secret, seeded.origin)
        connect = connector("raw", "127.0.0.1", lk.port)
        cell = asyncio.run(
            run_cell(
                target,
                seeded.credentials,
                connect,
                concurrency=2,
                duration=1,
                warmup=0.2,
                database="sqlite seeded",
                probes=Probes(lk.pid, writer_stats=lk.writer_stats),
            )
        )
    _check(cell)
    assert cell.server_cpu_s is not None
    # The group writer's counts reached the bench: each commit carried at least one sign-in.
    assert cell.mean_group is not None
    assert cell.mean_group >= 1
