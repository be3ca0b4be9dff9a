"""schemathesis against Latchkey's own OpenAPI document: every operation, with generated
bodies, paths and queries, sent as an anonymous caller and as the tenant's real callers (its
secret key, its browsers' Basic tenant id, its real ids in the path). No answer is a 5xx, and
every error is JSON in its surface's documented shape.

Examples per operation: LATCHKEY_FUZZ_EXAMPLES (CI: a bounded number; `make fuzz`: many)."""

from __future__ import annotations

import base64
import os
import secrets
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from litestar import Litestar

from latchkey.api.app import create_app
from latchkey.config import Settings
from latchkey.runtime import Runtime
from latchkey.services import directories, operators, tenants
from latchkey.store import migrate
from latchkey.store.engine import make_engine

EXAMPLES = int(os.environ.get("LATCHKEY_FUZZ_EXAMPLES", "20"))
ORIGIN = "http://localhost:5002"


class Target:
    def __init__(self, tmp: Path) -> None:
        engine = make_engine(f"sqlite:///{tmp / 'fuzz.db'}")
        migrate.upgrade(engine)
        self.rt = Runtime(engine=engine, master_key=secrets.token_bytes(32))
        self.tenant, self.secret = tenants.create(
            self.rt, rp_id="localhost", rp_name="Fuzz", origins=[ORIGIN]
        )
        directories.create(self.rt, self.tenant.id, "customers", {"email": "required"})
        _, self.operator = operators.create_token(self.rt, name="fuzz", tenant_id=self.tenant.id)
        self.app: Litestar = create_app(self.rt, Settings(mail_mode="off"))

    def callers(self) -> dict[str, dict[str, str]]:
        secret = base64.b64encode(f"{self.secret}:".encode()).decode()
        return {
            "anonymous": {},
            "secret key": {"authorization": f"Basic {secret}"},
            "browser": {
                "authorization": "Basic " + base64.b64encode(self.tenant.id.encode()).decode()
            },
            "garbage": {"authorization": "Bearer " + "x" * 40},
            "operator": {"authorization": f"Bearer {self.operator}"},
        }


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    made = Target(tmp_path_factory.mktemp("fuzz"))
    yield made
    made.rt.engine.dispose()


# Fetched by Apple, Google and browsers: the plain shape, though they sit beside the OIDC files.
ASSOCIATION_FILES = {"apple-app-site-association", "assetlinks.json", "webauthn"}


def _shape_ok(path: str, body: Any) -> bool:
    """The documented error shapes (README, docs/identity-pools.md)."""
    if not isinstance(body, dict):
        return False
    parts = path.split("/")
    if len(parts) > 3 and parts[2] == "identity":
        return {"error", "error_code", "status_code", "details"} <= set(body)
    if path.rsplit("/", 1)[-1] in ASSOCIATION_FILES:
        return {"error", "message"} <= set(body)
    if path.startswith(("/t/", "/passkey/", "/oauth/", "/userinfo", "/.well-known/")):
        return {"error", "error_description"} <= set(body)
    if path.startswith("/v1/"):
        return {"error", "errorCode", "errorDescription"} <= set(body)
    return {"error", "message"} <= set(body)


def _operations(target: Target) -> list[Any]:
    schema = schemathesis.openapi.from_asgi("/openapi.json", target.app)
    return [result.ok() for result in schema.get_all_operations()]


def test_every_operation_answers_without_a_server_error(target: Target) -> None:
    statuses: Counter[int] = Counter()
    failures: list[str] = []
    callers = target.callers()
    operations = _operations(target)
    assert len(operations) > 40  # the document lists every surface

    for operation in operations:
        _fuzz(operation, target, callers, statuses, failures)

    assert failures == [], "\n".join(failures[:20])
    assert sum(statuses.values()) >= len(operations) * min(EXAMPLES, 5)
    # Not only refusals: some generated calls get through.
    assert statuses[200] > 0, statuses


def _fuzz(
    operation: Any,
    target: Target,
    callers: dict[str, dict[str, str]],
    statuses: Counter[int],
    failures: list[str],
) -> None:
    """Run one operation's examples, counting statuses and collecting failures."""

    @given(
        case=operation.as_strategy(),
        caller=st.sampled_from(sorted(callers)),
        real_tenant=st.booleans(),
    )
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Any, caller: str, real_tenant: bool) -> None:
        if real_tenant and case.path_parameters and "tenant_id" in case.path_parameters:
            case.path_parameters["tenant_id"] = target.tenant.id
        case.headers = {**(case.headers or {}), **callers[caller]}
        response = case.call()
        statuses[response.status_code] += 1
        path = response.request.url.split("//", 1)[-1].split("/", 1)[-1]
        if response.status_code >= 500:
            failures.append(
                f"{operation.label} [{caller}]: {response.status_code} {response.text[:200]}"
            )
        elif response.status_code >= 400 and response.request.method != "HEAD":
            body = response.json() if response.text else None
            if not _shape_ok("/" + path, body):
                failures.append(f"{operation.label}: error not in its shape: {response.text[:200]}")

    run()
