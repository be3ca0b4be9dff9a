"""The operator portal in tests: an operator's browser (its passkey and CSRF token), enrolment
by link, passkey sign-in, and a new operator signed in, global or for one tenant."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from litestar.testing import TestClient

from latchkey.runtime import Runtime
from latchkey.services.operators import accounts
from latchkey.testing.authenticator import SoftAuthenticator

PORTAL = "http://localhost:8000"  # the Runtime's default public URL: the portal's origin


@dataclass
class Operator:
    client: TestClient
    authenticator: SoftAuthenticator
    csrf: str = ""

    def form(self, path: str, **fields: str) -> Any:
        return self.client.post(
            path, data={"csrf": self.csrf, **fields}, headers=HTML, follow_redirects=False
        )

    def page(self, path: str) -> Any:
        return self.client.get(path, headers=HTML, follow_redirects=False)


HTML = {"accept": "text/html"}


def link_token(link: accounts.EnrolmentLink) -> str:
    return link.url.split("#token=", 1)[1]


def enrol(client: TestClient, token: str, authenticator: SoftAuthenticator) -> Any:
    begun = client.post("/portal/enrol/options", json={"token": token})
    if begun.status_code != 200:
        return begun
    created = authenticator.create(begun.json()["options"], origin=PORTAL)
    body = {"token": token, "challengeId": begun.json()["challengeId"], "credential": created}
    return client.post("/portal/enrol/finish", json=body)


def sign_in(client: TestClient, authenticator: SoftAuthenticator, **overrides: Any) -> Any:
    begun = client.post("/portal/login/options", json={}).json()
    assertion = authenticator.get(
        begun["options"], origin=overrides.pop("origin", PORTAL), **overrides
    )
    body = {"challengeId": begun["challengeId"], "credential": assertion}
    return client.post("/portal/login/finish", json=body)


def csrf_of(page: str) -> str:
    found = re.search(r'name="csrf-token" content="([^"]+)"', page)
    assert found, "the page carries no CSRF token"
    return found.group(1)


def new_operator(rt: Runtime, client: TestClient, tenant_id: str | None = None) -> Operator:
    link = accounts.create(rt, name="ops@example.com", tenant_id=tenant_id)
    me = Operator(client, SoftAuthenticator())
    assert enrol(client, link_token(link), me.authenticator).status_code == 200
    home = f"/portal/t/{tenant_id}/settings" if tenant_id else "/portal"
    me.csrf = csrf_of(me.page(home).text)
    return me
