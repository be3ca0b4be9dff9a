"""Mail outbox and worker against a real SMTP server (aiosmtpd on a free local port): delivery,
transactions, outages and retries, concurrent workers, STARTTLS/TLS/AUTH, and no secret logged."""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import secrets
import socket
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import default as default_policy
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from sqlalchemy import select

from latchkey.config import Settings, from_env
from latchkey.errors import ConfigError
from latchkey.mail.message import OutgoingMail, message_id
from latchkey.mail.transports import ConsoleTransport, DeliveryError, SMTPTransport
from latchkey.runtime import Runtime
from latchkey.services import mail_queue
from latchkey.services.mail_worker import Drained, MailWorker, build_worker
from latchkey.store import mail_outbox, migrate
from latchkey.store.engine import make_engine
from latchkey.store.tables import mail_outbox as outbox_table
from tests.support.clock import FakeClock
from tests.support.database import BACKENDS, copy_sqlite, postgres_schema

PASSWORD = "s3cret-Pa55-do-not-log"
MAIL = OutgoingMail(
    sender="Example <login@example.com>",
    recipient="ada@example.com",
    subject="Your Example recovery code: 123456",
    text_body="Zoë, your code is 123456.\n",
    html_body="<p>Zoë, your code is <b>123456</b>.</p>",
)


# --- a real SMTP server -------------------------------------------------------------------------


@dataclass
class Recorder:
    """aiosmtpd handler: keeps every message it accepts; refuses recipients in `refuse`."""

    messages: list[EmailMessage] = field(default_factory=list)
    envelopes: list[tuple[str, list[str], bool]] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if address in self.refuse:
            return "550 5.1.1 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        await asyncio.sleep(0.002)  # a little latency, so concurrent workers really overlap
        message = BytesParser(policy=default_policy).parsebytes(envelope.content)
        assert isinstance(message, EmailMessage)
        self.messages.append(message)
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos), session.authenticated))
        return "250 OK"

    def ids(self) -> list[str]:
        return [str(m["Message-ID"]) for m in self.messages]


def _authenticator(
    server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
) -> AuthResult:
    good = isinstance(auth_data, LoginPassword) and auth_data == (b"mailer", PASSWORD.encode())
    # handled=False: aiosmtpd itself answers a failure with 535.
    return AuthResult(success=good, handled=False)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def start_smtp() -> Iterator[Any]:
    """Start an SMTP server (aiosmtpd Controller options as keywords); stopped after the test."""
    started: list[Controller] = []

    def start(recorder: Recorder, port: int | None = None, **options: Any) -> int:
        port = port or free_port()
        controller = Controller(recorder, hostname="127.0.0.1", port=port, **options)
        controller.start()
        started.append(controller)
        return port

    yield start
    for controller in started:
        controller.stop()


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def smtp(start_smtp: Any, recorder: Recorder) -> SMTPTransport:
    """A plain SMTP server on localhost and a transport that reaches it."""
    return SMTPTransport(host="127.0.0.1", port=start_smtp(recorder), security="none", timeout=5)


@dataclass(frozen=True)
class TLSFiles:
    cert: Path
    key: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert, self.key)
        return context

    def client_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.cert))


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> TLSFiles:
    """A self-signed certificate for 127.0.0.1, trusted by the client contexts of these tests."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "latchkey test SMTP")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    folder = tmp_path_factory.mktemp("tls")
    files = TLSFiles(cert=folder / "cert.pem", key=folder / "key.pem")
    files.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    files.key.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return files


# --- helpers ------------------------------------------------------------------------------------


@pytest.fixture
def sqlite_rt(tmp_path: Path, clock: FakeClock, sqlite_template: Path) -> Iterator[Runtime]:
    """For tests of the transports and the thread, where the database does not matter."""
    copy_sqlite(sqlite_template, tmp_path / "mail.db")
    engine = make_engine(f"sqlite:///{tmp_path / 'mail.db'}")
    yield Runtime(engine=engine, clock=clock, master_key=secrets.token_bytes(32))
    engine.dispose()


def enqueue(rt: Runtime, mail: OutgoingMail = MAIL) -> str:
    with rt.transaction() as conn:
        return mail_queue.queue(conn, rt, mail, tenant_id=None)


def row(rt: Runtime, mail_id: str) -> Any:
    with rt.read() as conn:
        return conn.execute(select(outbox_table).where(outbox_table.c.id == mail_id)).one()


def unix(text: str) -> str:
    """SMTP carries CRLF line ends; the bodies were queued with LF."""
    return text.replace("\r\n", "\n")


def pending(rt: Runtime) -> int:
    with rt.read() as conn:
        return mail_outbox.pending_count(conn)


class FailingTransport:
    def __init__(self) -> None:
        self.calls = 0

    def send(self, message: EmailMessage) -> None:
        self.calls += 1
        raise DeliveryError("SMTPServerDisconnected: gone")


def wait_for(condition: Any, seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.01)


# --- delivery and transactions ------------------------------------------------------------------


def test_queued_mail_is_delivered_with_headers_and_bodies(
    rt: Runtime, clock: FakeClock, smtp: SMTPTransport, recorder: Recorder
) -> None:
    queued_at = clock.now
    mail_id = enqueue(rt)
    clock.advance(seconds=3)

    assert MailWorker(rt, smtp).drain_once() == Drained(sent=1, failed=0)

    (message,) = recorder.messages
    assert message["From"] == MAIL.sender
    assert message["To"] == MAIL.recipient
    assert message["Subject"] == MAIL.subject
    assert message["Message-ID"] == message_id(mail_id, MAIL.sender)
    assert message["Message-ID"] == f"<latchkey.{mail_id}@example.com>"
    # The Date is when the mail was queued: a retried message is the same message.
    assert parsedate_to_datetime(message["Date"]) == queued_at.replace(microsecond=0)
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None
    assert html is not None
    assert unix(text.get_content()) == MAIL.text_body
    assert unix(html.get_content()).strip() == MAIL.html_body
    assert recorder.envelopes == [("login@example.com", ["ada@example.com"], None)]
    stored = row(rt, mail_id)
    assert (stored.sent_at, stored.attempts, stored.locked_until) == (clock.now, 1, None)
    assert pending(rt) == 0
    assert MailWorker(rt, smtp).drain_once() == Drained()


def test_text_only_mail_is_a_single_part(
    sqlite_rt: Runtime, smtp: SMTPTransport, recorder: Recorder
) -> None:
    enqueue(sqlite_rt, OutgoingMail(MAIL.sender, MAIL.recipient, "Hello", "Just text."))
    MailWorker(sqlite_rt, smtp).drain_once()
    (message,) = recorder.messages
    assert message.get_content_type() == "text/plain"
    assert unix(message.get_content()) == "Just text.\n"


def test_mail_queued_in_a_rolled_back_transaction_is_never_sent(
    rt: Runtime, smtp: SMTPTransport, recorder: Recorder
) -> None:
    def queue_then_fail() -> None:
        with rt.transaction() as conn:
            mail_queue.queue(conn, rt, MAIL, tenant_id=None)
            raise RuntimeError("the recovery code could not be stored")

    with pytest.raises(RuntimeError):
        queue_then_fail()
    assert pending(rt) == 0
    assert MailWorker(rt, smtp).drain_once() == Drained()
    assert recorder.messages == []


@pytest.mark.parametrize(
    "bad",
    [
        {"subject": "Hi\r\nBcc: everyone@example.com"},
        {"recipient": "not an address"},
        {"sender": "x" * 400 + "@example.com"},
        {"subject": "s" * 256},
    ],
)
def test_bad_mail_is_refused_when_queued(bad: dict[str, str]) -> None:
    fields = {"sender": MAIL.sender, "recipient": MAIL.recipient, "subject": "Hi", **bad}
    with pytest.raises(ValueError, match=r"OutgoingMail\.") as error:
        OutgoingMail(text_body="body", **fields)
    assert "everyone@" not in str(error.value)


# --- outages, retries, crashes ------------------------------------------------------------------


def test_server_down_records_attempts_then_delivers_exactly_once_when_back(
    rt: Runtime, clock: FakeClock, start_smtp: Any, recorder: Recorder
) -> None:
    port = free_port()  # nothing listens here yet
    worker = MailWorker(rt, SMTPTransport(host="127.0.0.1", port=port, security="none", timeout=5))
    mail_id = enqueue(rt)

    assert worker.drain_once() == Drained(failed=1)
    failed = row(rt, mail_id)
    assert failed.attempts == 1
    assert "ConnectionRefusedError" in failed.last_error
    assert (failed.sent_at, failed.locked_until) == (None, None)
    assert failed.next_attempt_at == clock.now + timedelta(seconds=5)
    assert worker.drain_once() == Drained()  # not due yet

    clock.advance(seconds=5)
    assert worker.drain_once() == Drained(failed=1)
    assert row(rt, mail_id).next_attempt_at == clock.now + timedelta(seconds=10)
    assert pending(rt) == 1  # nothing lost

    start_smtp(recorder, port=port)
    clock.advance(seconds=10)
    assert worker.drain_once() == Drained(sent=1)
    clock.advance(hours=2)
    assert worker.drain_once() == Drained()
    assert recorder.ids() == [message_id(mail_id, MAIL.sender)]
    delivered = row(rt, mail_id)
    assert delivered.attempts == 3
    assert delivered.sent_at == clock.now - timedelta(hours=2)


def test_backoff_doubles_to_an_hour_and_gives_up_after_twelve_attempts(
    rt: Runtime, clock: FakeClock
) -> None:
    delays = [mail_outbox.retry_delay(n).total_seconds() for n in range(1, 14)]
    assert delays[:4] == [5, 10, 20, 40]
    assert max(delays) == 3600
    assert mail_outbox.retry_delay(10_000) == timedelta(hours=1)

    transport = FailingTransport()
    worker = MailWorker(rt, transport)
    mail_id = enqueue(rt)
    for _ in range(20):
        worker.drain_once()
        clock.advance(hours=1)
    assert transport.calls == mail_outbox.MAX_ATTEMPTS == 12
    given_up = row(rt, mail_id)
    assert given_up.attempts == 12
    assert given_up.sent_at is None
    assert given_up.last_error == "SMTPServerDisconnected: gone"
    with rt.read() as conn:
        assert (mail_outbox.pending_count(conn), mail_outbox.abandoned_count(conn)) == (0, 1)


def test_refused_recipient_is_given_up_at_once(
    sqlite_rt: Runtime, start_smtp: Any, recorder: Recorder
) -> None:
    recorder.refuse.add(MAIL.recipient)
    port = start_smtp(recorder)
    worker = MailWorker(sqlite_rt, SMTPTransport(host="127.0.0.1", port=port, security="none"))
    mail_id = enqueue(sqlite_rt)
    assert worker.drain_once() == Drained(failed=1)
    refused = row(sqlite_rt, mail_id)
    assert refused.attempts == mail_outbox.MAX_ATTEMPTS
    assert "SMTPRecipientsRefused" in refused.last_error
    assert "550" in refused.last_error
    assert recorder.messages == []


def test_a_worker_that_crashed_after_claiming_is_taken_over_after_the_lease(
    rt: Runtime, clock: FakeClock, smtp: SMTPTransport, recorder: Recorder
) -> None:
    mail_id = enqueue(rt)
    with rt.transaction() as conn:  # a worker claims the mail, then dies before sending it
        (claimed,) = mail_outbox.claim_due(conn, rt.now(), lease_seconds=120, limit=10)
    assert claimed.id == mail_id
    assert claimed.mail != MAIL  # sealed at rest
    assert mail_queue.opened(rt, claimed).mail == MAIL

    worker = MailWorker(rt, smtp, lease_seconds=120)
    assert worker.drain_once() == Drained()  # still leased
    clock.advance(seconds=121)
    assert worker.drain_once() == Drained(sent=1)
    assert recorder.ids() == [message_id(mail_id, MAIL.sender)]
    assert row(rt, mail_id).attempts == 2
    # The dead worker's late report cannot undo the delivery or unlock a newer lease.
    with rt.transaction() as conn:
        late = mail_outbox.mark_failed(
            conn, mail_id, "late", rt.now(), leased_until=claimed.leased_until
        )
        assert not late
        assert not mail_outbox.mark_sent(conn, mail_id, rt.now())


@pytest.fixture(params=BACKENDS)
def two_runtimes(
    request: pytest.FixtureRequest, tmp_path: Path, clock: FakeClock
) -> Iterator[tuple[Runtime, Runtime]]:
    """Two runtimes (as two processes would have) on one database."""

    def pair(url: str) -> Iterator[tuple[Runtime, Runtime]]:
        engines = [make_engine(url), make_engine(url)]
        migrate.upgrade(engines[0])
        try:
            key = secrets.token_bytes(32)  # one deployment: one master key
            yield (
                Runtime(engine=engines[0], clock=clock, master_key=key),
                Runtime(engine=engines[1], clock=clock, master_key=key),
            )
        finally:
            for engine in engines:
                engine.dispose()

    if request.param == "postgresql":
        with postgres_schema() as url:
            yield from pair(url)
    else:
        yield from pair(f"sqlite:///{tmp_path / 'shared.db'}")


def test_two_workers_draining_concurrently_never_send_a_message_twice(
    two_runtimes: tuple[Runtime, Runtime], smtp: SMTPTransport, recorder: Recorder
) -> None:
    first, second = two_runtimes
    with first.transaction() as conn:
        queued = [mail_queue.queue(conn, first, MAIL, tenant_id=None) for _ in range(30)]
    workers = [MailWorker(first, smtp), MailWorker(second, smtp)]
    barrier = threading.Barrier(2)

    def drain(worker: MailWorker) -> Drained:
        barrier.wait()
        return worker.drain_once()

    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(drain, workers))

    assert sum(r.sent for r in results) == 30
    assert sorted(recorder.ids()) == sorted(message_id(i, MAIL.sender) for i in queued)
    assert pending(first) == 0
    with first.read() as conn:
        attempts = conn.execute(select(outbox_table.c.attempts)).scalars().all()
    assert set(attempts) == {1}


def test_claims_on_one_database_never_overlap(two_runtimes: tuple[Runtime, Runtime]) -> None:
    first, second = two_runtimes
    for _ in range(5):
        enqueue(first)
    with first.transaction() as conn:
        taken = mail_outbox.claim_due(conn, first.now(), lease_seconds=60, limit=3)
    with second.transaction() as conn:
        rest = mail_outbox.claim_due(conn, second.now(), lease_seconds=60, limit=10)
    assert len(taken) == 3
    assert len(rest) == 2
    assert not {c.id for c in taken} & {c.id for c in rest}


# --- the background thread ----------------------------------------------------------------------


class BlockingTransport:
    """Holds the first send until released; records every message."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()
        self.sent: list[str] = []

    def send(self, message: EmailMessage) -> None:
        self.entered.set()
        if not self.sent:
            assert self.release.wait(5)
        self.sent.append(str(message["Message-ID"]))


def test_stop_finishes_the_current_message_and_a_new_worker_picks_up_the_rest(
    sqlite_rt: Runtime, smtp: SMTPTransport, recorder: Recorder
) -> None:
    rt = sqlite_rt
    first_id, second_id = enqueue(rt), enqueue(rt)
    blocking = BlockingTransport()
    worker = MailWorker(rt, blocking, poll_seconds=60)
    worker.start()
    assert blocking.entered.wait(5)

    with ThreadPoolExecutor(1) as pool:
        stopped = pool.submit(worker.stop, 5)
        wait_for(lambda: worker.stopping)
        blocking.release.set()
        assert stopped.result() is True

    assert len(blocking.sent) == 1  # the message in flight was finished, no further one taken
    assert pending(rt) == 1
    done = {i for i in (first_id, second_id) if row(rt, i).sent_at is not None}
    assert len(done) == 1

    successor = MailWorker(rt, smtp, poll_seconds=60)
    successor.start()  # its first pass runs at once, not after the poll interval
    try:
        wait_for(lambda: pending(rt) == 0)
    finally:
        assert successor.stop()
    (left,) = {first_id, second_id} - done
    assert recorder.ids() == [message_id(left, MAIL.sender)]


def test_wake_starts_a_pass_without_waiting_for_the_poll(
    sqlite_rt: Runtime, smtp: SMTPTransport, recorder: Recorder
) -> None:
    worker = MailWorker(sqlite_rt, smtp, poll_seconds=60)
    worker.start()
    try:
        enqueue(sqlite_rt)
        worker.wake()
        wait_for(lambda: len(recorder.messages) == 1)
    finally:
        assert worker.stop()


def test_a_pass_that_fails_on_the_database_does_not_stop_the_thread(
    sqlite_rt: Runtime, smtp: SMTPTransport, recorder: Recorder, caplog: pytest.LogCaptureFixture
) -> None:
    worker = MailWorker(sqlite_rt, smtp, poll_seconds=60)
    real = worker.drain_once
    calls: list[int] = []

    def flaky() -> Drained:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError(f"statement failed [parameters: {MAIL.subject}]")
        return real()

    worker.drain_once = flaky  # type: ignore[method-assign]
    enqueue(sqlite_rt)
    worker.start()
    try:
        wait_for(lambda: len(calls) == 1)
        worker.wake()
        wait_for(lambda: len(recorder.messages) == 1)
    finally:
        assert worker.stop()
    assert "mail outbox pass failed: RuntimeError" in caplog.text
    assert "123456" not in caplog.text  # a database error's parameters are not logged


# --- TLS and authentication ---------------------------------------------------------------------


def test_starttls_with_auth(
    sqlite_rt: Runtime,
    start_smtp: Any,
    recorder: Recorder,
    tls: TLSFiles,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    port = start_smtp(
        recorder,
        tls_context=tls.server_context(),
        require_starttls=True,
        authenticator=_authenticator,
        auth_required=True,
    )
    transport = SMTPTransport(
        host="127.0.0.1",
        port=port,
        security="starttls",
        username="mailer",
        password=PASSWORD,
        timeout=5,
        ssl_context=tls.client_context(),
    )
    enqueue(sqlite_rt)
    assert MailWorker(sqlite_rt, transport).drain_once() == Drained(sent=1)
    assert recorder.envelopes == [("login@example.com", ["ada@example.com"], True)]
    assert PASSWORD not in repr(transport)
    assert PASSWORD not in caplog.text


def test_wrong_password_is_recorded_and_retried_without_the_password_anywhere(
    sqlite_rt: Runtime,
    start_smtp: Any,
    recorder: Recorder,
    tls: TLSFiles,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    port = start_smtp(
        recorder,
        tls_context=tls.server_context(),
        require_starttls=True,
        authenticator=_authenticator,
    )
    wrong = PASSWORD + "-wrong"
    settings = Settings(
        mail_mode="smtp",
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_username="mailer",
        smtp_password=wrong,
    ).checked()
    worker = build_worker(sqlite_rt, settings)
    assert worker is not None
    assert isinstance(worker.transport, SMTPTransport)
    # The settings give no way to trust the test's certificate; the rest is from the settings.
    worker.transport = SMTPTransport(
        **{**vars(worker.transport), "ssl_context": tls.client_context()}
    )
    mail_id = enqueue(sqlite_rt)
    assert worker.drain_once() == Drained(failed=1)
    failed = row(sqlite_rt, mail_id)
    assert "SMTPAuthenticationError" in failed.last_error
    assert failed.next_attempt_at > failed.created_at  # retried: the operator may fix it
    assert recorder.messages == []
    for shown in (failed.last_error, caplog.text, repr(settings), repr(worker.transport)):
        assert wrong not in shown
        assert PASSWORD not in shown


def test_implicit_tls(
    sqlite_rt: Runtime, start_smtp: Any, recorder: Recorder, tls: TLSFiles
) -> None:
    port = start_smtp(recorder, ssl_context=tls.server_context())
    transport = SMTPTransport(
        host="127.0.0.1", port=port, security="tls", timeout=5, ssl_context=tls.client_context()
    )
    enqueue(sqlite_rt)
    assert MailWorker(sqlite_rt, transport).drain_once() == Drained(sent=1)
    assert len(recorder.messages) == 1


def test_untrusted_certificate_is_refused(
    sqlite_rt: Runtime, start_smtp: Any, recorder: Recorder, tls: TLSFiles
) -> None:
    port = start_smtp(recorder, tls_context=tls.server_context(), require_starttls=True)
    # No ssl_context: the system's trust store, which does not know the test certificate.
    transport = SMTPTransport(host="127.0.0.1", port=port, security="starttls", timeout=5)
    mail_id = enqueue(sqlite_rt)
    assert MailWorker(sqlite_rt, transport).drain_once() == Drained(failed=1)
    assert "SSLCertVerificationError" in row(sqlite_rt, mail_id).last_error
    assert recorder.messages == []


def test_starttls_is_never_skipped_when_the_server_does_not_offer_it(
    sqlite_rt: Runtime, start_smtp: Any, recorder: Recorder
) -> None:
    port = start_smtp(recorder)  # no TLS at all
    transport = SMTPTransport(host="127.0.0.1", port=port, security="starttls", timeout=5)
    mail_id = enqueue(sqlite_rt)
    assert MailWorker(sqlite_rt, transport).drain_once() == Drained(failed=1)
    assert "SMTPNotSupportedError" in row(sqlite_rt, mail_id).last_error
    assert recorder.messages == []


# --- modes and settings -------------------------------------------------------------------------


def test_console_mode_logs_the_message(
    sqlite_rt: Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    worker = build_worker(sqlite_rt, Settings(mail_mode="console"))
    assert worker is not None
    assert isinstance(worker.transport, ConsoleTransport)
    mail_id = enqueue(sqlite_rt)
    assert worker.drain_once() == Drained(sent=1)
    assert "Zoë, your code is 123456." in caplog.text
    assert MAIL.subject in caplog.text
    assert "To: ada@example.com" in caplog.text
    assert message_id(mail_id, MAIL.sender) in caplog.text
    assert row(sqlite_rt, mail_id).sent_at is not None


def test_console_mode_shows_the_message_when_nothing_configured_logging(tmp_path: Path) -> None:
    """As under `latchkey serve`: uvicorn sets up its own loggers only."""
    script = f"""
from latchkey.config import Settings
from latchkey.services.mail_worker import build_worker
from latchkey.runtime import Runtime
from latchkey.services import mail_queue
from latchkey.store import migrate
from latchkey.store.engine import make_engine
from latchkey.mail.message import OutgoingMail

MAIL = OutgoingMail({MAIL.sender!r}, {MAIL.recipient!r}, {MAIL.subject!r}, {MAIL.text_body!r})
engine = make_engine("sqlite:///{tmp_path / "console.db"}")
migrate.upgrade(engine)
rt = Runtime(engine=engine, master_key=bytes(32))
with rt.transaction() as conn:
    mail_queue.queue(conn, rt, MAIL, tenant_id=None)
worker = build_worker(rt, Settings(mail_mode="console"))
assert worker is not None and worker.drain_once().sent == 1
"""
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert "Zoë, your code is 123456." in done.stderr
    assert "To: ada@example.com" in done.stderr


def test_off_mode_has_no_worker(sqlite_rt: Runtime) -> None:
    assert build_worker(sqlite_rt, Settings(mail_mode="off")) is None


def test_mail_settings_from_the_environment() -> None:
    assert (from_env({}).mail_mode, from_env({}).smtp_port) == ("console", 587)
    settings = from_env(
        {
            "LATCHKEY_MAIL_MODE": "SMTP",
            "LATCHKEY_SMTP_HOST": "smtp.example.com",
            "LATCHKEY_SMTP_SECURITY": "tls",
            "LATCHKEY_SMTP_USERNAME": "mailer",
            "LATCHKEY_SMTP_PASSWORD": PASSWORD,
            "LATCHKEY_MAIL_FROM": "Example <login@example.com>",
            "LATCHKEY_MAIL_POLL_SECONDS": "2.5",
        }
    )
    assert settings.mail_mode == "smtp"
    assert settings.smtp_port == 465  # implicit TLS's port unless told otherwise
    assert settings.smtp_password == PASSWORD
    assert settings.mail_poll_seconds == 2.5
    assert PASSWORD not in repr(settings)
    explicit = from_env({"LATCHKEY_SMTP_SECURITY": "tls", "LATCHKEY_SMTP_PORT": "2465"})
    assert explicit.smtp_port == 2465


@pytest.mark.parametrize(
    ("env", "says"),
    [
        ({"LATCHKEY_MAIL_MODE": "pigeon"}, "LATCHKEY_MAIL_MODE 'pigeon' is not one of"),
        ({"LATCHKEY_MAIL_MODE": "smtp"}, "LATCHKEY_SMTP_HOST is not set"),
        ({"LATCHKEY_SMTP_SECURITY": "ssl"}, "LATCHKEY_SMTP_SECURITY 'ssl' is not one of"),
        ({"LATCHKEY_SMTP_PORT": "0"}, "LATCHKEY_SMTP_PORT 0 is not a TCP port"),
        ({"LATCHKEY_SMTP_PORT": "x"}, "LATCHKEY_SMTP_PORT='x' is not an integer"),
        ({"LATCHKEY_MAIL_FROM": "nobody"}, "LATCHKEY_MAIL_FROM 'nobody' is not an e-mail"),
        ({"LATCHKEY_MAIL_POLL_SECONDS": "soon"}, "LATCHKEY_MAIL_POLL_SECONDS='soon' is not a"),
        ({"LATCHKEY_MAIL_POLL_SECONDS": "0"}, "LATCHKEY_MAIL_POLL_SECONDS 0.0 is outside"),
        ({"LATCHKEY_SMTP_PASSWORD": PASSWORD}, "LATCHKEY_SMTP_USERNAME is not"),
        (
            {
                "LATCHKEY_SMTP_HOST": "smtp.example.com",
                "LATCHKEY_SMTP_SECURITY": "none",
                "LATCHKEY_SMTP_USERNAME": "mailer",
                "LATCHKEY_SMTP_PASSWORD": PASSWORD,
            },
            "in clear",
        ),
    ],
)
def test_bad_mail_settings_name_themselves(env: dict[str, str], says: str) -> None:
    with pytest.raises(ConfigError) as error:
        from_env(env)
    assert says in error.value.message
    assert PASSWORD not in error.value.message
