"""The passkey-adoption figures in tests: authenticator models and browsers by name, and a
script that writes a tenant's users, passkeys and events at the fake clock's time, as the
services would."""

from __future__ import annotations

import secrets
from typing import Any

from latchkey.ids import new_id
from latchkey.models import Credential, Tenant, User
from latchkey.runtime import RequestMeta, Runtime
from latchkey.services import events
from latchkey.store import credentials as credential_store
from latchkey.store import users as user_store

ICLOUD = "fbfc3007-154e-4ecc-8c0b-6e020557d7bd"
GOOGLE = "ea9b8d66-4d01-1d21-3ce4-b6b48cb575d4"
YUBIKEY = "cb69481e-8ff7-4039-93ec-0a2729a154a8"
SAFARI_MAC = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko)"
    " Version/17.4 Safari/605.1.15"
)
CHROME_WINDOWS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko)"
    " Chrome/126.0.0.0 Safari/537.36"
)
FIREFOX_LINUX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
CHROME_ANDROID = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko)"
    " Chrome/126.0.0.0 Mobile Safari/537.36"
)


class Script:
    """Writes a tenant's events at the fake clock's time, as the services would."""

    def __init__(self, rt: Runtime, tenant: Tenant) -> None:
        self.rt, self.tenant = rt, tenant

    def user(self, pool_id: str, name: str) -> str:
        now = self.rt.now()
        user = User(new_id(), self.tenant.id, name, secrets.token_bytes(16), name, name, now, now,
                    directory_id=pool_id)  # fmt: skip
        with self.rt.transaction() as conn:
            user_store.add(conn, user)
        return user.id

    def passkey(self, user_id: str, aaguid: str, *, synced: bool) -> str:
        now = self.rt.now()
        made = Credential(
            id=new_id(), tenant_id=self.tenant.id, user_id=user_id,
            credential_id=secrets.token_bytes(16), public_key=b"k", alg=-7, sign_count=0,
            aaguid=aaguid, fmt="none", transports=(), backup_eligible=synced,
            backup_state=synced, user_verified=True, discoverable=True, attachment=None,
            name="key", possible_clone=False, created_at=now, last_used_at=None,
        )  # fmt: skip
        with self.rt.transaction() as conn:
            credential_store.add(conn, made)
        return made.id

    def event(
        self,
        kind: str,
        pool_id: str | None,
        *,
        agent: str | None = None,
        reason: str | None = None,
        user_id: str | None = None,
        credential_id: str | None = None,
        **detail: Any,
    ) -> None:
        with self.rt.transaction() as conn:
            events.record(
                conn, self.rt, tenant_id=self.tenant.id, kind=kind,
                meta=RequestMeta(ip="192.0.2.1", user_agent=agent), reason=reason,
                user_id=user_id, credential_id=credential_id,
                detail={**({"pool_id": pool_id} if pool_id else {}), **detail},
            )  # fmt: skip
