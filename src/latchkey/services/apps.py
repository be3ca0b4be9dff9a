"""Apps: a tenant's OAuth clients, and the device settings of their native builds."""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import replace
from datetime import timedelta
from typing import Any

from latchkey.errors import ConfigError, NotFound, TenantNotFound, Unauthorized
from latchkey.ids import new_client_id, new_id, new_token
from latchkey.models import App
from latchkey.runtime import Runtime
from latchkey.services import app_origins
from latchkey.store import apps as app_store
from latchkey.store import tenants as tenant_store

APP_TYPES = ("native", "spa", "regular_web")
PASSKEY_GRANT = "urn:okta:params:oauth:grant-type:webauthn"
GRANT_TYPES = (PASSKEY_GRANT, "refresh_token", "authorization_code")
# The passkey grant is off until an operator turns it on for the app.
DEFAULT_GRANTS = ("refresh_token", "authorization_code")
SECRET_PREFIX = "lk_cs_"
_TEAM_ID = re.compile(r"^[A-Z0-9]{10}$")
_BUNDLE_ID = re.compile(r"^[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
# An app's refresh-token family lifetime, in seconds: a minute to a year.
REFRESH_LIFETIME_RANGE = (60, 366 * 86400)
# How long a refresh-token family lives from its sign-in when the app does not say.
REFRESH_FAMILY_LIFETIME = timedelta(days=30)
_PACKAGE = re.compile(r"^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z][A-Za-z0-9_]*)+$")


class AppNotFound(NotFound):
    code = "app_not_found"


class InvalidClient(Unauthorized):
    code = "invalid_client"


def family_lifetime(app: App) -> timedelta:
    """How long the app's refresh-token families live from their sign-in."""
    if app.refresh_token_lifetime is None:
        return REFRESH_FAMILY_LIFETIME
    return timedelta(seconds=app.refresh_token_lifetime)


def _hash(secret: str) -> bytes:
    return hashlib.sha256(secret.encode("utf-8")).digest()


def _checked(app: App) -> App:
    if app.app_type not in APP_TYPES:
        raise ConfigError(f"app type {app.app_type!r} is not one of {', '.join(APP_TYPES)}")
    if not 1 <= len(app.name.strip()) <= 200:
        raise ConfigError("an app name is 1 to 200 characters")
    for grant in app.grant_types:
        if grant not in GRANT_TYPES:
            raise ConfigError(f"grant type {grant!r} is not one of {', '.join(GRANT_TYPES)}")
    for uri in app.redirect_uris:
        if not re.match(r"^[a-z][a-z0-9+.-]*:", uri) or len(uri) > 2048:
            raise ConfigError(f"redirect URI {uri!r} is not an absolute URI")
        if uri.startswith("http://") and not uri.startswith(("http://localhost", "http://127.")):
            raise ConfigError(f"redirect URI {uri!r} must use https (http only for localhost)")
    if app.ios_team_id is not None and not _TEAM_ID.match(app.ios_team_id):
        raise ConfigError(f"iOS team id {app.ios_team_id!r} is not 10 capital letters or digits")
    if app.ios_bundle_id is not None and not _BUNDLE_ID.match(app.ios_bundle_id):
        raise ConfigError(f"iOS bundle id {app.ios_bundle_id!r} is not a reverse-DNS name")
    if app.android_package is not None and not _PACKAGE.match(app.android_package):
        raise ConfigError(f"Android package {app.android_package!r} is not a package name")
    if app.android_fingerprints and app.android_package is None:
        raise ConfigError("Android fingerprints need the Android package name too")
    for audience in app.audiences:
        # RFC 9068 `aud`: a StringOrURI; an API identifier such as https://api.example.com.
        if not 0 < len(audience) <= 255 or any(c.isspace() for c in audience):
            raise ConfigError(f"audience {audience!r} is not 1 to 255 characters without spaces")
    lifetime = app.refresh_token_lifetime
    low, high = REFRESH_LIFETIME_RANGE
    if lifetime is not None and (type(lifetime) is not int or not low <= lifetime <= high):
        raise ConfigError(f"refresh token lifetime {lifetime!r} is not {low} to {high} seconds")
    return replace(
        app,
        name=app.name.strip(),
        android_fingerprints=tuple(
            app_origins.normalize_fingerprint(f) for f in app.android_fingerprints
        ),
        audiences=tuple(dict.fromkeys(app.audiences)),
    )


def create(
    rt: Runtime,
    tenant_id: str,
    *,
    name: str,
    app_type: str = "native",
    confidential: bool = False,
    **settings: Any,
) -> tuple[App, str | None]:
    """Create an app; a confidential one gets a client secret, returned here and never again."""
    secret = SECRET_PREFIX + new_token(32) if confidential else None
    now = rt.now()
    app = _checked(
        App(
            id=new_id(),
            tenant_id=tenant_id,
            client_id=new_client_id(),
            name=name,
            app_type=app_type,
            client_secret_hash=_hash(secret) if secret else None,
            redirect_uris=tuple(settings.get("redirect_uris") or ()),
            grant_types=tuple(settings.get("grant_types") or DEFAULT_GRANTS),
            ios_team_id=settings.get("ios_team_id"),
            ios_bundle_id=settings.get("ios_bundle_id"),
            android_package=settings.get("android_package"),
            android_fingerprints=tuple(settings.get("android_fingerprints") or ()),
            created_at=now,
            updated_at=now,
            refresh_token_lifetime=settings.get("refresh_token_lifetime"),
            audiences=tuple(settings.get("audiences") or ()),
        )
    )
    with rt.transaction() as conn:
        if tenant_store.get(conn, tenant_id) is None:
            raise TenantNotFound(f"no tenant {tenant_id!r}")
        app_store.add(conn, app)
    _changed(rt, tenant_id)
    return app, secret


def _changed(rt: Runtime, tenant_id: str) -> None:
    app_origins.forget(rt, tenant_id)


def get(rt: Runtime, client_id: str) -> App:
    with rt.read() as conn:
        found = app_store.by_client_id(conn, client_id)
    if found is None:
        raise AppNotFound(f"no app {client_id!r}")
    return found


def update(rt: Runtime, client_id: str, **changes: Any) -> App:
    """Change settings (None leaves a setting as it is); the result is checked before saving."""
    given: dict[str, Any] = {
        k: (tuple(v) if isinstance(v, list) else v) for k, v in changes.items() if v is not None
    }
    with rt.transaction() as conn:
        found = app_store.by_client_id(conn, client_id)
        if found is None:
            raise AppNotFound(f"no app {client_id!r}")
        changed = _checked(replace(found, **given, updated_at=rt.now()))
        app_store.save(conn, changed)
    _changed(rt, changed.tenant_id)
    return changed


def delete(rt: Runtime, client_id: str) -> None:
    with rt.transaction() as conn:
        found = app_store.by_client_id(conn, client_id)
        if found is None or not app_store.remove(conn, found.id):
            raise AppNotFound(f"no app {client_id!r}")
    _changed(rt, found.tenant_id)


def list_for(rt: Runtime, tenant_id: str) -> list[App]:
    with rt.read() as conn:
        return app_store.for_tenant(conn, tenant_id)


def authenticate(app: App, secret: str | None) -> None:
    """Confidential apps must present their secret; public apps must not rely on one."""
    if app.client_secret_hash is None:
        return
    if not secret or not hmac.compare_digest(_hash(secret), app.client_secret_hash):
        raise InvalidClient("client authentication failed")
