"""Drives the ceremony API over HTTP as an app backend plus a browser would."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

from httpx import Response
from litestar.testing import TestClient
from sqlalchemy import Engine, func, select

from latchkey.store.tables import credentials, events, users
from latchkey.testing.authenticator import SoftAuthenticator


@dataclass
class CeremonyClient:
    http: TestClient
    tenant_id: str
    secret: str
    origin: str

    @property
    def headers(self) -> dict[str, str]:
        token = base64.b64encode(f"{self.secret}:".encode()).decode()
        return {"authorization": f"Basic {token}"}

    def post(self, path: str, body: Any) -> Response:
        return self.http.post(
            f"/api/v1/tenants/{self.tenant_id}/{path}", json=body, headers=self.headers
        )

    def registration_options(self, user_id: str, **extra: Any) -> dict[str, Any]:
        answer = self.post("registration/options", {"userId": user_id, **extra})
        assert answer.status_code == 200, answer.text
        return answer.json()

    def authentication_options(self, user_id: str | None = None) -> dict[str, Any]:
        body = {"userId": user_id} if user_id else {}
        answer = self.post("authentication/options", body)
        assert answer.status_code == 200, answer.text
        return answer.json()

    def register(self, authenticator: SoftAuthenticator, user_id: str, **create: Any) -> Response:
        begun = self.registration_options(user_id)
        credential = authenticator.create(begun["options"], origin=self.origin, **create)
        return self.post(
            "registration/verify", {"challengeId": begun["challengeId"], "credential": credential}
        )

    def sign_in(
        self, authenticator: SoftAuthenticator, user_id: str | None = None, **get: Any
    ) -> Response:
        begun = self.authentication_options(user_id)
        assertion = authenticator.get(begun["options"], origin=self.origin, **get)
        return self.post(
            "authentication/verify", {"challengeId": begun["challengeId"], "credential": assertion}
        )


def row_counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {
            table.name: conn.execute(select(func.count()).select_from(table)).scalar_one()
            for table in (users, credentials)
        }


def event_reasons(engine: Engine) -> list[tuple[str, str, str | None]]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(events.c.kind, events.c.outcome, events.c.reason).order_by(events.c.created_at)
        )
        return [tuple(r) for r in rows]  # type: ignore[misc]
