"""Mail in production never puts a code in the log: without LATCHKEY_MAIL_MODE production sends by
SMTP and refuses to start without LATCHKEY_SMTP_HOST; console mail chosen by the operator starts
with a warning and logs only the Message-ID; development keeps printing whole mails."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from latchkey.config import Settings, from_env
from latchkey.errors import ConfigError
from latchkey.mail.message import OutgoingMail, message_id
from latchkey.mail.transports import ConsoleTransport
from latchkey.modes import Mode, mail
from latchkey.runtime import Runtime
from latchkey.services import mail_queue
from latchkey.services.mail_worker import build_worker
from latchkey.store import migrate
from latchkey.store.engine import make_engine
from tests.live_server import free_port, running

LATCHKEY = str(Path(sys.executable).with_name("latchkey"))
CODE_MAIL = OutgoingMail(
    sender="Example <login@example.com>",
    recipient="ada@example.com",
    subject="Your Example recovery code: 123456",
    text_body="Ada, your code is 654321.",
)
NO_SMTP = (
    "latchkey: error: LATCHKEY_SMTP_HOST is not set: production mode sends recovery and"
    " verification codes by mail; set LATCHKEY_SMTP_HOST, LATCHKEY_SMTP_USERNAME,"
    " LATCHKEY_SMTP_PASSWORD and LATCHKEY_MAIL_FROM (or LATCHKEY_MAIL_MODE=off to send none);"
    " for local development run `latchkey serve --dev`"
)


def production_env(tmp_path: Path, port: int, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LATCHKEY_")}
    return env | {
        "LATCHKEY_MASTER_KEY": os.environ["LATCHKEY_MASTER_KEY"],
        "LATCHKEY_PUBLIC_URL": f"http://localhost:{port}",
        "LATCHKEY_DATABASE_URL": f"sqlite:///{tmp_path / 'latchkey.db'}",
        **extra,
    }


def test_production_refuses_to_start_without_smtp(tmp_path: Path) -> None:
    port = free_port()
    done = subprocess.run(
        [LATCHKEY, "serve", "--port", str(port)],
        cwd=tmp_path,
        env=production_env(tmp_path, port),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.splitlines() == [NO_SMTP]
    assert list(tmp_path.iterdir()) == []  # refused before the database was made


def test_console_mail_chosen_in_production_starts_with_one_warning(tmp_path: Path) -> None:
    port = free_port()
    log = tmp_path / "serve.log"
    env = production_env(tmp_path, port, LATCHKEY_MAIL_MODE="console")
    with running([LATCHKEY, "serve", "--port", str(port)], port, env, log, cwd=tmp_path):
        pass
    [warning] = [line for line in log.read_text().splitlines() if "warning" in line]
    assert warning == (
        "latchkey: warning: LATCHKEY_MAIL_MODE=console in production: no mail is sent and the"
        " log shows only each message's Message-ID (recipient, subject and codes withheld); set"
        " LATCHKEY_SMTP_HOST to send mail"
    )


def test_without_a_mail_mode_production_sends_by_smtp_and_development_prints() -> None:
    smtp = from_env({"LATCHKEY_SMTP_HOST": "smtp.example.com"})
    assert mail(smtp, Mode.PRODUCTION).mail_mode == "smtp"
    assert mail(smtp, Mode.DEVELOPMENT).mail_mode == "smtp"
    with pytest.raises(ConfigError) as refused:
        mail(from_env({}), Mode.PRODUCTION)
    assert f"latchkey: error: {refused.value.message}" == NO_SMTP
    dev = mail(from_env({}), Mode.DEVELOPMENT)
    assert (dev.mail_mode, dev.console_mail_content) == ("console", True)
    # What the operator chose stands, SMTP host or not.
    off = mail(from_env({"LATCHKEY_MAIL_MODE": "off"}), Mode.PRODUCTION)
    assert off.mail_mode == "off"
    chosen = from_env({"LATCHKEY_MAIL_MODE": "console", "LATCHKEY_SMTP_HOST": "smtp.example.com"})
    assert mail(chosen, Mode.PRODUCTION).mail_mode == "console"


def _logged_mail(tmp_path: Path, settings: Settings, caplog: pytest.LogCaptureFixture) -> str:
    engine = make_engine(f"sqlite:///{tmp_path / 'mail.db'}")
    migrate.upgrade(engine)
    rt = Runtime(engine=engine, master_key=bytes(32))
    try:
        with rt.transaction() as conn:
            mail_id = mail_queue.queue(conn, rt, CODE_MAIL, tenant_id=None)
        worker = build_worker(rt, settings)
        assert worker is not None
        assert isinstance(worker.transport, ConsoleTransport)
        caplog.set_level(logging.INFO)
        assert worker.drain_once().sent == 1
    finally:
        engine.dispose()
    assert message_id(mail_id, CODE_MAIL.sender) in caplog.text
    return caplog.text


def test_console_mail_in_production_logs_no_code(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = mail(from_env({"LATCHKEY_MAIL_MODE": "console"}), Mode.PRODUCTION)
    logged = _logged_mail(tmp_path, settings, caplog)
    assert "content withheld in production" in logged
    for secret in ("123456", "654321", "ada@example.com"):
        assert secret not in logged


def test_console_mail_in_development_shows_the_whole_message(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = mail(from_env({}), Mode.DEVELOPMENT)
    logged = _logged_mail(tmp_path, settings, caplog)
    assert "Ada, your code is 654321." in logged
    assert CODE_MAIL.subject in logged
