"""/admin/v1/me and /admin/v1/tokens: who is calling, and operator API tokens (a tenant's
tokens by its operators; global ones only by a global operator)."""

from __future__ import annotations

from typing import Annotated

from litestar import delete, get, post
from litestar.params import FromPath, JSONBody, QueryParameter

from latchkey.api.admin import schemas
from latchkey.api.admin.auth import operator, who
from latchkey.api.context import AnyRequest, runtime
from latchkey.services import operator_changes, operators, views


@get("/me", sync_to_thread=True)
def me(request: AnyRequest) -> schemas.OperatorOut:
    return schemas.OperatorOut.of(operator(request))


@get("/tokens", sync_to_thread=True)
def list_tokens(
    request: AnyRequest,
    tenant_id: Annotated[str | None, QueryParameter(name="tenantId", max_length=36)] = None,
) -> list[views.TokenOut]:
    found = operators.list_tokens(runtime(request), by=operator(request), tenant_id=tenant_id)
    return [views.TokenOut.of(t) for t in found]


@post("/tokens", sync_to_thread=True)
def create_token(data: JSONBody[schemas.TokenCreate], request: AnyRequest) -> schemas.TokenCreated:
    """The secret is in this answer only; Latchkey keeps its hash."""
    made, secret = operator_changes.create_token(
        runtime(request), who(request), name=data.name, tenant_id=data.tenant_id
    )
    return schemas.TokenCreated(token=views.TokenOut.of(made), secret=secret)


@get("/tokens/{token_id:str}", sync_to_thread=True)
def get_token(token_id: FromPath[str], request: AnyRequest) -> views.TokenOut:
    found = operators.get_token(runtime(request), token_id, by=operator(request))
    return views.TokenOut.of(found)


@delete("/tokens/{token_id:str}", sync_to_thread=True, status_code=200)
def revoke_token(token_id: FromPath[str], request: AnyRequest) -> views.TokenOut:
    revoked = operator_changes.revoke_token(runtime(request), who(request), token_id)
    return views.TokenOut.of(revoked)


handlers = [me, list_tokens, create_token, get_token, revoke_token]
