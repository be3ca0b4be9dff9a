"""Who is calling the management API: an operator API token (`Authorization: Bearer`) or,
failing that, a portal session cookie (api/admin/portal_session.py, with its CSRF rule), so the
portal's export links and scripts in a signed-in browser work too. A token wins over a cookie
the same request may carry."""

from __future__ import annotations

from latchkey.api.admin.portal_session import portal_session
from latchkey.api.context import AnyRequest, request_meta, runtime
from latchkey.models import Tenant
from latchkey.services import operator_changes, operators
from latchkey.services.operator_changes import Who
from latchkey.services.operators import InvalidOperatorToken, Operator


def _bearer_token(request: AnyRequest) -> Operator | None:
    header = request.headers.get("authorization")
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer":
        raise InvalidOperatorToken("use Authorization: Bearer <operator token>")
    return operators.authenticate(runtime(request), value.strip())


def operator(request: AnyRequest) -> Operator:
    found = _bearer_token(request) or portal_session(request)
    if found is None:
        raise InvalidOperatorToken("send an operator API token: Authorization: Bearer lk_op_...")
    return found


def who(request: AnyRequest) -> Who:
    """The operator and where the request came from, as operators' changes take them."""
    return Who(operator(request), request_meta(request))


def tenant_of(request: AnyRequest, tenant_id: str) -> Tenant:
    """The path's tenant when the operator may see it (else not found)."""
    return operator_changes.tenant(runtime(request), who(request), tenant_id)
