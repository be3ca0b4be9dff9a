"""What one ceremony is against each server, and how the generator's passkeys are enrolled.

Latchkey (discoverable sign-in, as the Web SDK's passkey button does it):
authentication-options → assertion → /v1/client/verify/passkey → backend /v1/validate.
The peer: /login/options → assertion → /login/verify. The peer keeps one pending challenge per
username ('' for discoverable), so concurrent discoverable sign-ins would overwrite each
other's challenge: the generator names the user, and no two workers share a user.
"""

from __future__ import annotations

import asyncio
from base64 import b64encode
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson

from bench.credentials import BenchCredential, synced_authenticator
from bench.httpclient import Connection, Headers

FULL = "options→verify→validate"
TWO_STEP = "options→verify"


class CeremonyFailed(Exception):
    """A step answered with something other than success; `kind` groups it in the report."""

    def __init__(self, kind: str, detail: str = "") -> None:
        super().__init__(f"{kind}: {detail}" if detail else kind)
        self.kind = kind


def _expect(step: str, status: int, body: bytes) -> dict[str, Any]:
    if status != 200:
        try:
            code = str(orjson.loads(body).get("error", ""))
        except (orjson.JSONDecodeError, AttributeError):
            code = ""
        raise CeremonyFailed(
            f"{step} HTTP {status} {code}".rstrip(), body[:300].decode(errors="replace")
        )
    answer = orjson.loads(body)
    if not isinstance(answer, dict):
        raise CeremonyFailed(f"{step} answer is not an object")
    return answer


def basic(user: str) -> str:
    return "Basic " + b64encode(f"{user}:".encode()).decode()


@dataclass(frozen=True)
class LatchkeyTarget:
    """A Latchkey tenant: the browser side calls with Basic base64(tenantId) and the tenant's
    origin; the backend side validates with the secret key."""

    tenant_id: str
    secret: str
    origin: str
    validate: bool = True
    name: str = "latchkey"

    @property
    def steps(self) -> str:
        return FULL if self.validate else TWO_STEP

    @property
    def client_headers(self) -> Headers:
        tenant = "Basic " + b64encode(self.tenant_id.encode()).decode()
        return (("Authorization", tenant), ("Origin", self.origin))

    @property
    def backend_headers(self) -> Headers:
        return (("Authorization", basic(self.secret)),)

    async def ceremony(self, conn: Connection, credential: BenchCredential) -> None:
        client = self.client_headers
        status, body = await conn.post(
            "/v1/client/user-authenticators/passkey/authentication-options", b"{}", client
        )
        begun = _expect("options", status, body)
        assertion = credential.assertion(begun["options"]["challenge"])
        request = {"authenticationCredential": assertion, "challengeId": begun["challengeId"]}
        status, body = await conn.post("/v1/client/verify/passkey", orjson.dumps(request), client)
        verified = _expect("verify", status, body)
        if verified.get("isVerified") is not True or not verified.get("accessToken"):
            raise CeremonyFailed("verify not verified", str(verified)[:200])
        if not self.validate:
            return
        token = orjson.dumps({"token": verified["accessToken"]})
        status, body = await conn.post("/v1/validate", token, self.backend_headers)
        if _expect("validate", status, body).get("isValid") is not True:
            raise CeremonyFailed("validate isValid false")


@dataclass(frozen=True)
class PeerTarget:
    origin: str
    name: str = "peer"
    steps: str = TWO_STEP

    async def ceremony(self, conn: Connection, credential: BenchCredential) -> None:
        user = credential.username
        status, body = await conn.post("/login/options", orjson.dumps({"username": user}), ())
        options = _expect("options", status, body)
        request = {"username": user, "response": credential.assertion(options["challenge"])}
        status, body = await conn.post("/login/verify", orjson.dumps(request), ())
        verified = _expect("verify", status, body)
        if verified.get("verified") is not True or not verified.get("token"):
            raise CeremonyFailed("verify not verified", str(verified)[:200])


async def _enroll_latchkey_one(
    conn: Connection, target: LatchkeyTarget, username: str, counter_step: int
) -> BenchCredential:
    status, body = await conn.post(
        f"/v1/users/{username}/actions/signup",
        orjson.dumps({"username": username}),
        target.backend_headers,
    )
    bearer = (("Authorization", "Bearer " + _expect("track", status, body)["token"]),)
    headers = (*bearer, ("Origin", target.origin))
    status, body = await conn.post(
        "/v1/client/user-authenticators/passkey/registration-options", b"{}", headers
    )
    begun = _expect("registration-options", status, body)
    authenticator = synced_authenticator(counter_step=counter_step)
    created = authenticator.create(begun["options"], origin=target.origin)
    request = {"registrationCredential": created, "challengeId": begun["challengeId"]}
    status, body = await conn.post(
        "/v1/client/user-authenticators/passkey", orjson.dumps(request), headers
    )
    if not _expect("add passkey", status, body).get("accessToken"):
        raise CeremonyFailed("add passkey gave no token")
    return _held(authenticator, username, target.origin, counter_step)


async def _enroll_peer_one(
    conn: Connection, target: PeerTarget, username: str, counter_step: int
) -> BenchCredential:
    status, body = await conn.post("/register/options", orjson.dumps({"username": username}), ())
    options = _expect("register options", status, body)
    authenticator = synced_authenticator(counter_step=counter_step)
    created = authenticator.create(options, origin=target.origin)
    request = {"username": username, "response": created}
    status, body = await conn.post("/register/verify", orjson.dumps(request), ())
    if _expect("register verify", status, body).get("verified") is not True:
        raise CeremonyFailed("register verify not verified")
    return _held(authenticator, username, target.origin, counter_step)


def _held(authenticator: Any, username: str, origin: str, counter_step: int) -> BenchCredential:
    (soft,) = authenticator.credentials.values()
    held = BenchCredential.from_soft(soft, username=username, origin=origin)
    held.counter_step = counter_step
    return held


async def enroll(
    connect: Callable[[], Connection],
    target: LatchkeyTarget | PeerTarget,
    count: int,
    *,
    prefix: str = "bench-user",
    counter_step: int = 0,
    parallel: int = 8,
) -> list[BenchCredential]:
    """Sign `count` users up over the wire, each with one passkey the generator keeps."""
    names = [f"{prefix}-{i:06d}" for i in range(count)]
    held: list[BenchCredential] = []

    async def lane(lane_names: list[str]) -> None:
        conn = connect()
        try:
            for name in lane_names:
                if isinstance(target, LatchkeyTarget):
                    held.append(await _enroll_latchkey_one(conn, target, name, counter_step))
                else:
                    held.append(await _enroll_peer_one(conn, target, name, counter_step))
        finally:
            await conn.close()

    await asyncio.gather(*(lane(names[i::parallel]) for i in range(parallel)))
    held.sort(key=lambda c: c.username)
    return held
