"""Who is calling the management API. Each way of proving it is one function from a request to
an Operator (or None when the request does not use it); a portal session cookie is added here
as another, and every endpoint then accepts it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from latchkey.api.context import AnyRequest, request_meta, runtime
from latchkey.models import Tenant
from latchkey.portal.request_auth import portal_session
from latchkey.services import audit, operators, tenants
from latchkey.services.audit import Change
from latchkey.services.operators import InvalidOperatorToken, Operator


def _bearer_token(request: AnyRequest) -> Operator | None:
    header = request.headers.get("authorization")
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer":
        raise InvalidOperatorToken("use Authorization: Bearer <operator token>")
    return operators.authenticate(runtime(request), value.strip())


# A bearer token wins over a portal cookie the same request may carry.
METHODS: list[Callable[[AnyRequest], Operator | None]] = [_bearer_token, portal_session]


def operator(request: AnyRequest) -> Operator:
    for method in METHODS:
        found = method(request)
        if found is not None:
            return found
    raise InvalidOperatorToken("send an operator API token: Authorization: Bearer lk_op_...")


def tenant_of(request: AnyRequest, tenant_id: str) -> tuple[Operator, Tenant]:
    """The operator, and the path's tenant when the operator may see it (else not found)."""
    caller = operator(request)
    caller.check_tenant(tenant_id)
    return caller, tenants.get(runtime(request), tenant_id)


@contextmanager
def change(
    request: AnyRequest, caller: Operator, kind: str, tenant_id: str | None, **target: Any
) -> Iterator[Change]:
    """A change and its audit event, in one transaction (see services/audit.py)."""
    rt, meta = runtime(request), request_meta(request)
    with audit.change(rt, caller, meta, kind=kind, tenant_id=tenant_id, **target) as done:
        yield done
