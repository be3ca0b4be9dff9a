"""Which action names an anonymous sign-in may carry.

A sign-in without the backend's action token names its action itself (the browser SDK's
`signIn({ action })`), so its result token must never pass for a step-up the backend tracked:
a name the tenant's backend has tracked is reserved for tracked actions. A tenant may also
narrow anonymous names to a list; None (the default) allows any name not tracked.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from sqlalchemy import Connection

from latchkey.errors import ActionReserved, InvalidRequest, TenantNotFound
from latchkey.models import Action, Credential, Tenant, User
from latchkey.runtime import Runtime
from latchkey.services import actions
from latchkey.store import actions as action_store
from latchkey.store import tenants as tenant_store

MAX_ANONYMOUS_ACTIONS = 50


def reserve(conn: Connection, rt: Runtime, tenant: Tenant, name: str) -> None:
    """The backend tracks this name: from now on no anonymous sign-in may carry it."""
    action_store.add_tracked_name(conn, tenant.id, name, rt.now())


def _check_listed(tenant: Tenant, name: str) -> None:
    if tenant.anonymous_actions is not None and name not in tenant.anonymous_actions:
        raise ActionReserved(
            f"this tenant does not allow an anonymous sign-in for the action {name!r}",
            code="action_not_allowed",
        )


def _reserved(name: str) -> ActionReserved:
    return ActionReserved(
        f"the action {name!r} is tracked by the app's backend: sign in with its action token"
    )


def succeed_anonymous(
    conn: Connection, rt: Runtime, tenant: Tenant, *, user: User, credential: Credential, name: str
) -> tuple[Action, str]:
    """An anonymous sign-in's action and result token, if it may carry the name; ActionReserved
    otherwise. Decided in the ceremony's own transaction, by the action's INSERT itself: the
    last word, when the sign-in is verified."""
    _check_listed(tenant, name)
    recorded = actions.succeed_anonymous(
        conn, rt, tenant, user=user, credential=credential, name=name
    )
    if recorded is None:
        raise _reserved(name)
    return recorded


def precheck_anonymous(rt: Runtime, tenant: Tenant, name: str) -> str:
    """The same rules when the challenge is made, the tracked names read through a cache of a
    few seconds (a track in this process forgets its name at once): the hot path's options
    cost no statement, and a name another node tracked meanwhile is still refused at verify."""
    _check_listed(tenant, name)

    def load() -> bool:
        with rt.read() as conn:
            return action_store.is_tracked_name(conn, tenant.id, name)

    if rt.cache(actions.TRACKED_NAMES_CACHE, actions.TRACKED_NAMES_TTL).get(
        (tenant.id, name), load
    ):
        raise _reserved(name)
    return name


def set_anonymous_actions(rt: Runtime, tenant_id: str, names: Sequence[str] | None) -> Tenant:
    """Narrow anonymous sign-ins to these action names (None: any name not tracked)."""
    if names is not None:
        if len(names) > MAX_ANONYMOUS_ACTIONS:
            raise InvalidRequest(f"at most {MAX_ANONYMOUS_ACTIONS} anonymous action names")
        names = tuple(dict.fromkeys(actions.check_action_name(n) for n in names))
    with rt.transaction() as conn:
        tenant = tenant_store.get(conn, tenant_id)
        if tenant is None:
            raise TenantNotFound(f"no tenant {tenant_id!r}")
        changed = replace(
            tenant,
            anonymous_actions=tuple(names) if names is not None else None,
            updated_at=rt.now(),
        )
        tenant_store.save(conn, changed)
    rt.cache("tenants").forget(tenant_id)
    return changed
