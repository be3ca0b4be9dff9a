"""Operators' changes, whichever surface asks: the management API, the portal and the CLI call
these functions, never the domain services directly. Each one checks that the operator may make
the change (a tenant-scoped operator sees its own tenant only; some changes need a global one),
makes it and writes its `admin.<kind>` audit event in the change's own transaction
(services/audit.py): a refused or failed change writes nothing, not even its event.

Each function takes the operator and where the request came from (`Who`) and returns the changed
records; a surface renders them as it likes. Imports services, records and views only."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from latchkey.errors import ConfigError
from latchkey.models import App, Credential, Directory, Tenant, User
from latchkey.runtime import RequestMeta, Runtime
from latchkey.services import (
    action_names,
    api_keys,
    apps,
    audit,
    directories,
    operators,
    pools,
    retention,
    signing_keys,
    tenants,
    user_admin,
    webhooks,
)
from latchkey.services.api_keys import ApiKey
from latchkey.services.operators import Operator, OperatorToken, accounts
from latchkey.services.pools import passwords as pool_passwords
from latchkey.services.views import (
    ApiKeyOut,
    AppOut,
    CredentialOut,
    DirectoryOut,
    EndpointOut,
    PoolOut,
    SigningKeyOut,
    TokenOut,
    UserOut,
    tenant_view,
)
from latchkey.webauthn.policy import PasskeyPolicy
from latchkey.webhooks.models import Delivery, Endpoint


@dataclass(frozen=True)
class Who:
    """The operator making a change and where the request came from (IP, user agent)."""

    operator: Operator
    meta: RequestMeta


def tenant(rt: Runtime, who: Who, tenant_id: str) -> Tenant:
    """The tenant when the operator may see it; another tenant's id is answered as unknown."""
    who.operator.check_tenant(tenant_id)
    return tenants.get(rt, tenant_id)


def _change(rt: Runtime, who: Who, kind: str, tenant_id: str | None, **target: Any) -> Any:
    return audit.change(rt, who.operator, who.meta, kind=kind, tenant_id=tenant_id, **target)


def _app(rt: Runtime, tenant_id: str, client_id: str) -> App:
    """The tenant's app; another tenant's client id is not found, as an unknown one is."""
    found = apps.get(rt, client_id)
    if found.tenant_id != tenant_id:
        raise apps.AppNotFound(f"no app {client_id!r}")
    return found


# Tenants


def create_tenant(
    rt: Runtime,
    who: Who,
    *,
    rp_id: str,
    origins: list[str],
    rp_name: str | None = None,
    name: str | None = None,
    policy_changes: dict[str, Any] | None = None,
    domains: list[str] | None = None,
    related_origins: list[str] | None = None,
) -> tuple[Tenant, str]:
    """A new tenant and its secret key (shown once); only a global operator makes tenants."""
    who.operator.require_global("create tenants")
    policy = PasskeyPolicy.from_dict(PasskeyPolicy().to_dict() | (policy_changes or {}))
    with _change(rt, who, "tenant.created", None) as done:
        made, secret = tenants.create(
            done.rt,
            rp_id=rp_id,
            rp_name=rp_name,
            name=name,
            origins=origins,
            policy=policy,
            domains=domains,
            related_origins=related_origins,
        )
        done.tenant_id, done.target = made.id, {"tenantId": made.id}
        done.after = tenant_view(done.rt, made)
    return made, secret


def update_tenant(
    rt: Runtime,
    who: Who,
    tenant_id: str,
    *,
    rp_id: str | None = None,
    rp_name: str | None = None,
    name: str | None = None,
    origins: list[str] | None = None,
    policy_changes: dict[str, Any] | None = None,
    related_origins: list[str] | None = None,
    domains: list[str] | None = None,
) -> Tenant:
    """Changing the RP ID or the domains needs a global operator (services/tenants.py checks
    with the operator given)."""
    found = tenant(rt, who, tenant_id)
    with _change(rt, who, "tenant.updated", found.id, tenantId=found.id) as done:
        done.before = tenant_view(done.rt, tenants.get(done.rt, found.id))
        changed = tenants.update(
            done.rt,
            found.id,
            rp_id=rp_id,
            rp_name=rp_name,
            name=name,
            origins=origins,
            policy_changes=policy_changes,
            related_origins=related_origins,
            by=who.operator,
        )
        if domains is not None:
            tenants.set_domains(done.rt, found.id, domains, by=who.operator)
        done.after = tenant_view(done.rt, changed)
    return changed


def set_event_retention(rt: Runtime, who: Who, tenant_id: str, days: int | None) -> Tenant:
    found = tenant(rt, who, tenant_id)
    with _change(rt, who, "event_retention.updated", found.id, tenantId=found.id) as done:
        done.before = {"days": found.event_retention_days}
        changed = retention.set_retention(done.rt, found.id, days)
        done.after = {"days": changed.event_retention_days}
    return changed


def set_anonymous_actions(
    rt: Runtime, who: Who, tenant_id: str, names: Sequence[str] | None
) -> Tenant:
    found = tenant(rt, who, tenant_id)
    with _change(rt, who, "anonymous_actions.updated", found.id, tenantId=found.id) as done:
        done.before = {"names": found.anonymous_actions}
        changed = action_names.set_anonymous_actions(
            done.rt, found.id, None if names is None else list(names)
        )
        done.after = {"names": changed.anonymous_actions}
    return changed


# Apps


def create_app(
    rt: Runtime,
    who: Who,
    tenant_id: str,
    *,
    name: str | None,
    app_type: str,
    confidential: bool,
    **settings: Any,
) -> tuple[App, str | None]:
    """A new app; a confidential one's client secret is returned once."""
    found = tenant(rt, who, tenant_id)
    if not name:
        raise ConfigError("name is required")
    with _change(rt, who, "app.created", found.id) as done:
        made, secret = apps.create(
            done.rt, found.id, name=name, app_type=app_type, confidential=confidential, **settings
        )
        done.target, done.after = {"clientId": made.client_id}, AppOut.of(made, found.rp_id)
    return made, secret


def app(rt: Runtime, who: Who, tenant_id: str, client_id: str) -> App:
    """The tenant's app, when the operator may see the tenant."""
    return _app(rt, tenant(rt, who, tenant_id).id, client_id)


def app_of(rt: Runtime, who: Who, client_id: str) -> App:
    """An app the operator may see, by its client id alone (as the CLI names it)."""
    found = apps.get(rt, client_id)
    if not who.operator.can_see(found.tenant_id):
        raise apps.AppNotFound(f"no app {client_id!r}")
    return found


def update_app(rt: Runtime, who: Who, tenant_id: str, client_id: str, **settings: Any) -> App:
    found = tenant(rt, who, tenant_id)
    with _change(rt, who, "app.updated", found.id, clientId=client_id) as done:
        done.before = AppOut.of(_app(done.rt, found.id, client_id), found.rp_id)
        changed = apps.update(done.rt, client_id, **settings)
        done.after = AppOut.of(changed, found.rp_id)
    return changed


def delete_app(rt: Runtime, who: Who, tenant_id: str, client_id: str) -> App:
    found = tenant(rt, who, tenant_id)
    with _change(rt, who, "app.deleted", found.id, clientId=client_id) as done:
        gone = _app(done.rt, found.id, client_id)
        done.before = AppOut.of(gone, found.rp_id)
        apps.delete(done.rt, client_id)
    return gone


# Directories and pools


def create_directory(
    rt: Runtime, who: Who, tenant_id: str, name: str, identifiers: dict[str, str]
) -> Directory:
    found = tenant(rt, who, tenant_id)
    with _change(rt, who, "directory.created", found.id, name=name) as done:
        made = directories.create(done.rt, found.id, name, identifiers)
        done.after = DirectoryOut.of(made)
    return made


def update_directory(
    rt: Runtime, who: Who, tenant_id: str, name: str, identifiers: dict[str, str]
) -> Directory:
    """`name` is the directory's id or name."""
    found = tenant(rt, who, tenant_id)
    with _change(rt, who, "directory.updated", found.id, name=name) as done:
        directory = pools.get(done.rt, found.id, name).directory
        done.before = DirectoryOut.of(directory)
        changed = directories.set_identifiers(done.rt, found.id, directory.name, identifiers)
        done.after = DirectoryOut.of(changed)
    return changed


def configure_pool(
    rt: Runtime, who: Who, tenant_id: str, pool: str, changes: dict[str, Any]
) -> pools.Pool:
    """Change some of the pool's settings (the others keep their values)."""
    found = tenant(rt, who, tenant_id)
    with _change(rt, who, "pool.updated", found.id, pool=pool) as done:
        done.before = PoolOut.of(pools.get(done.rt, found.id, pool))
        changed = pools.configure(done.rt, found.id, pool, changes)
        done.after = PoolOut.of(changed)
    return changed


def set_pool_message(
    rt: Runtime,
    who: Who,
    tenant_id: str,
    pool: str,
    locale: str,
    message: str,
    text: str | None,
) -> pools.Pool:
    """The pool's own wording of one catalog message in one language (None: the catalog's)."""
    found = tenant(rt, who, tenant_id)
    with _change(rt, who, "pool.updated", found.id, pool=pool) as done:
        done.before = PoolOut.of(pools.get(done.rt, found.id, pool))
        changed = pools.set_message(done.rt, found.id, pool, locale, message, text)
        done.after = PoolOut.of(changed)
    return changed


def set_password(
    rt: Runtime, who: Who, tenant_id: str, pool: pools.Pool, user_id: str, password: str
) -> None:
    """A user's password in a pool migrating off passwords (never recorded, only that it was
    set)."""
    found = tenant(rt, who, tenant_id)
    with _change(rt, who, "password.set", found.id, pool=pool.id, userId=user_id) as done:
        pool_passwords.set_password(done.rt, found, pool, user_id, password)
        done.user_id = user_id


# Users and passkeys


def set_user_disabled(rt: Runtime, who: Who, tenant_id: str, user_id: str, disabled: bool) -> User:
    """A disabled user's passkeys and password stop signing them in; their sessions and
    refresh tokens end."""
    found = tenant(rt, who, tenant_id)
    kind = "user.disabled" if disabled else "user.enabled"
    with _change(rt, who, kind, found.id, userId=user_id) as done:
        done.before = UserOut.of(user_admin.view(done.rt, found.id, user_id).user)
        changed = user_admin.set_disabled(done.rt, found.id, user_id, disabled)
        done.after, done.user_id = UserOut.of(changed), changed.id
    return changed


def delete_user(rt: Runtime, who: Who, tenant_id: str, user_id: str) -> User:
    found = tenant(rt, who, tenant_id)
    with _change(rt, who, "user.deleted", found.id, userId=user_id) as done:
        gone = user_admin.delete(done.rt, found.id, user_id)
        done.before = UserOut.of(gone)
    return gone


def rename_passkey(
    rt: Runtime, who: Who, tenant_id: str, user_id: str, passkey_id: str, name: str
) -> Credential:
    found = tenant(rt, who, tenant_id)
    target = {"userId": user_id, "passkeyId": passkey_id}
    with _change(rt, who, "passkey.renamed", found.id, **target) as done:
        before = user_admin.passkey(done.rt, found.id, user_id, passkey_id)
        done.before, done.user_id = {"name": before.name}, user_id
        renamed = user_admin.rename_passkey(done.rt, found.id, user_id, passkey_id, name)
        done.after = {"name": renamed.name}
    return renamed


def revoke_passkey(
    rt: Runtime, who: Who, tenant_id: str, user_id: str, passkey_id: str
) -> Credential:
    """Delete the passkey: its next sign-in fails as an unknown credential."""
    found = tenant(rt, who, tenant_id)
    target = {"userId": user_id, "passkeyId": passkey_id}
    with _change(rt, who, "passkey.revoked", found.id, **target) as done:
        revoked = user_admin.revoke_passkey(done.rt, found.id, user_id, passkey_id)
        done.before, done.user_id = CredentialOut.of(revoked), user_id
    return revoked


# Keys


def create_api_key(rt: Runtime, who: Who, tenant_id: str) -> tuple[ApiKey, str]:
    """A new secret key; the secret is returned once."""
    found = tenant(rt, who, tenant_id)
    with _change(rt, who, "api_key.created", found.id) as done:
        key, secret = api_keys.create(done.rt, found.id)
        done.target, done.after = {"keyId": key.id}, ApiKeyOut.of(key)
    return key, secret


def revoke_api_key(rt: Runtime, who: Who, tenant_id: str, key_id: str) -> ApiKey:
    found = tenant(rt, who, tenant_id)
    with _change(rt, who, "api_key.revoked", found.id, keyId=key_id) as done:
        revoked = api_keys.revoke(done.rt, found.id, key_id)
        done.after = ApiKeyOut.of(revoked)
    return revoked


def rotate_signing_key(rt: Runtime, who: Who, tenant_id: str, alg: str) -> str:
    """Retire the active key (still published until its tokens expire) and make a new one;
    the new key's id."""
    found = tenant(rt, who, tenant_id)
    with _change(rt, who, "signing_key.rotated", found.id) as done:
        done.before = [SigningKeyOut.of(k) for k in signing_keys.listed(done.rt, found.id)]
        kid = signing_keys.rotate(done.rt, found.id, alg)
        done.target = {"kid": kid, "alg": alg}
        done.after = [SigningKeyOut.of(k) for k in signing_keys.listed(done.rt, found.id)]
    return kid


# Webhooks


def create_endpoint(
    rt: Runtime,
    who: Who,
    tenant_id: str,
    *,
    url: str,
    event_types: Sequence[str] = (),
    description: str = "",
    enabled: bool = True,
    secret: str | None = None,
) -> tuple[Endpoint, str]:
    """A new webhook endpoint and its signing secret (returned once)."""
    found = tenant(rt, who, tenant_id)
    with _change(rt, who, "webhook_endpoint.created", found.id) as done:
        made, signing = webhooks.create_endpoint(
            done.rt,
            found.id,
            url=url,
            event_types=event_types,
            description=description,
            enabled=enabled,
            secret=secret,
        )
        done.target, done.after = {"endpointId": made.id}, EndpointOut.of(made)
    return made, signing


def update_endpoint(
    rt: Runtime,
    who: Who,
    tenant_id: str,
    endpoint_id: str,
    *,
    url: str | None = None,
    event_types: Sequence[str] | None = None,
    description: str | None = None,
    enabled: bool | None = None,
) -> Endpoint:
    found = tenant(rt, who, tenant_id)
    target = {"endpointId": endpoint_id}
    with _change(rt, who, "webhook_endpoint.updated", found.id, **target) as done:
        done.before = EndpointOut.of(webhooks.get_endpoint(done.rt, found.id, endpoint_id))
        changed = webhooks.update_endpoint(
            done.rt,
            found.id,
            endpoint_id,
            url=url,
            event_types=event_types,
            description=description,
            enabled=enabled,
        )
        done.after = EndpointOut.of(changed)
    return changed


def delete_endpoint(rt: Runtime, who: Who, tenant_id: str, endpoint_id: str) -> Endpoint:
    found = tenant(rt, who, tenant_id)
    target = {"endpointId": endpoint_id}
    with _change(rt, who, "webhook_endpoint.deleted", found.id, **target) as done:
        gone = webhooks.get_endpoint(done.rt, found.id, endpoint_id)
        done.before = EndpointOut.of(gone)
        webhooks.delete_endpoint(done.rt, found.id, endpoint_id)
    return gone


def rotate_endpoint_secret(
    rt: Runtime,
    who: Who,
    tenant_id: str,
    endpoint_id: str,
    *,
    keep_previous_for: timedelta = webhooks.ROTATION_GRACE,
    secret: str | None = None,
) -> tuple[Endpoint, str]:
    """A new signing secret (returned once); the previous one also signs for a while."""
    found = tenant(rt, who, tenant_id)
    target = {"endpointId": endpoint_id}
    with _change(rt, who, "webhook_endpoint.secret_rotated", found.id, **target) as done:
        rotated, signing = webhooks.rotate_secret(
            done.rt, found.id, endpoint_id, keep_previous_for=keep_previous_for, secret=secret
        )
        done.after = {"secretPrefix": rotated.secret_prefix}
    return rotated, signing


def redeliver(rt: Runtime, who: Who, tenant_id: str, delivery_id: str) -> Delivery:
    found = tenant(rt, who, tenant_id)
    target = {"deliveryId": delivery_id}
    with _change(rt, who, "webhook_delivery.redelivered", found.id, **target) as done:
        queued = webhooks.redeliver(done.rt, found.id, delivery_id)
        done.after = {"deliveryId": queued.id}
    return queued


# Operator API tokens


def create_token(
    rt: Runtime, who: Who, *, name: str, tenant_id: str | None
) -> tuple[OperatorToken, str]:
    """A token scoped to `tenant_id` (None: global, only by a global operator); the secret is
    returned once. A global token's event has no tenant log: it is logged, and the token names
    its maker."""
    with _change(rt, who, "operator_token.created", tenant_id) as done:
        made, secret = operators.create_token(
            done.rt, name=name, tenant_id=tenant_id, by=who.operator
        )
        done.target, done.after = {"tokenId": made.id}, TokenOut.of(made)
    return made, secret


def revoke_token(rt: Runtime, who: Who, token_id: str) -> OperatorToken:
    found = operators.get_token(rt, token_id, by=who.operator)
    with _change(rt, who, "operator_token.revoked", found.tenant_id, tokenId=found.id) as done:
        revoked = operators.revoke_token(done.rt, token_id, by=who.operator)
        done.before, done.after = TokenOut.of(found), TokenOut.of(revoked)
    return revoked


# Portal operators


def create_operator(
    rt: Runtime, who: Who, *, name: str, tenant_id: str | None, hours: int
) -> accounts.EnrolmentLink:
    """A portal operator (global only by a global operator) and their first one-time enrolment
    link; the link's secret is in the answer only, never in the event."""
    with _change(rt, who, "operator.created", tenant_id) as done:
        link = accounts.create(
            done.rt, name=name, tenant_id=tenant_id, hours=hours, by=who.operator
        )
        done.target = {"operatorId": link.operator.id}
        done.after = {"name": link.operator.name, "tenantId": link.operator.tenant_id}
    return link


def enrolment_link(
    rt: Runtime, who: Who, operator_id: str, *, hours: int
) -> accounts.EnrolmentLink:
    """Another one-time link for an operator the caller may see (to add a passkey)."""
    with _change(rt, who, "operator.link_created", None, operatorId=operator_id) as done:
        link = accounts.enrolment_link(done.rt, operator_id, hours=hours)
        if not who.operator.can_see(link.operator.tenant_id):
            raise accounts.OperatorNotFound(f"no operator {operator_id!r}")
        done.tenant_id = link.operator.tenant_id
        done.after = {"expiresAt": link.expires_at}
    return link
