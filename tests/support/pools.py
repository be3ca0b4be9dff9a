"""Identity pools in tests: a pool made through the service, a browser on its hosted pages'
JSON endpoints, the pools' error shape, and a table's row count."""

from __future__ import annotations

from typing import Any

from litestar.testing import TestClient
from sqlalchemy import func, select

from latchkey.models import Tenant
from latchkey.runtime import Runtime
from latchkey.services import directories, pools
from latchkey.testing.authenticator import SoftAuthenticator
from tests.support.mail import code_and_link, mails
from tests.web_parties import ORIGIN


def count(rt: Runtime, table: Any) -> int:
    with rt.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def make_pool(rt: Runtime, tenant: Tenant, name: str = "customers", **settings: Any) -> pools.Pool:
    directories.create(rt, tenant.id, name, {"email": "required"})
    # Tests opt in to the bot check and the sign-up's verification mail.
    base = {"bot_check": False, "email_verification": "off"}
    return pools.configure(rt, tenant.id, name, {**base, **settings})


class PoolBrowser:
    """A browser on the hosted pages: it keeps cookies, like the TestClient does."""

    def __init__(self, http: TestClient, tenant_id: str, pool_id: str) -> None:
        self.http = http
        self.base = f"/{tenant_id}/identity/{pool_id}"
        self.authenticator = SoftAuthenticator(backup_eligible=True, backup_state=True)

    def post(self, path: str, body: Any, **params: str) -> Any:
        return self.http.post(f"{self.base}/{path}", json=body, params=params)

    def begin_signup(self, email: str, **body: Any) -> Any:
        return self.post("register/webauthn/begin", {"identifier": email, **body})

    def sign_up(self, email: str = "ada@example.com") -> Any:
        begun = self.begin_signup(email)
        assert begun.status_code == 200, begun.text
        created = self.authenticator.create(begun.json()["publicKey"], origin=ORIGIN)
        return self.post("register/webauthn/finish", created)

    def sign_in(self, identifier: str | None = None) -> Any:
        begun = self.post("login/webauthn/options", {"identifier": identifier})
        assert begun.status_code == 200, begun.text
        assertion = self.authenticator.get(begun.json()["publicKey"], origin=ORIGIN)
        return self.post("login/webauthn/finish", assertion)


def pool_error(answer: Any, status: int, code: str) -> None:
    assert answer.status_code == status, answer.text
    body = answer.json()
    assert body["error_code"] == code, body
    assert body["status_code"] == status
    assert isinstance(body["error"], str)
    assert body["error"]
    assert body["details"] == {}


def begin_recovery(browser: PoolBrowser, identifier: str) -> Any:
    """Ask the pool to mail a recovery code ("reset your passkey")."""
    return browser.post("recovery/begin", {"identifier": identifier})


def recover(rt: Runtime, browser: PoolBrowser, identifier: str) -> Any:
    """Reset the passkey with the mailed code, making a new passkey with the browser's
    authenticator; the answer of register/webauthn/finish."""
    begun = begin_recovery(browser, identifier)
    assert begun.status_code == 200, begun.text
    code, _ = code_and_link(mails(rt)[-1])
    proved = browser.post("recovery/verify", {"code": code, "flow_id": begun.json()["flow_id"]})
    assert proved.status_code == 200, proved.text
    flow = proved.json()["flow_id"]
    options = browser.post("register/webauthn/begin", {"flow_id": flow})
    assert options.status_code == 200, options.text
    made = browser.authenticator.create(options.json()["publicKey"], origin=ORIGIN)
    return browser.post("register/webauthn/finish", made, flow_id=flow)
