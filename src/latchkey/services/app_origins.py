"""The origins a tenant's ceremonies accept: its own list plus the `android:apk-key-hash:`
origins derived from its apps' signing certificates.

Kept a few seconds in the runtime's cache, so a sign-in does not read the apps table each time;
a fingerprint removed by another process stops being accepted within that time.
"""

from __future__ import annotations

import re

from latchkey.errors import ConfigError
from latchkey.models import App, Tenant
from latchkey.services.origins import android_origin as origin_of_digest
from latchkey.services.runtime import Runtime
from latchkey.store import apps as app_store

TTL_SECONDS = 5.0
_CACHE = "app_origins"
_FINGERPRINT = re.compile(r"^[0-9A-F]{2}(:[0-9A-F]{2}){31}$")


def normalize_fingerprint(value: str) -> str:
    """SHA-256 signing-certificate fingerprint as `AB:CD:...` (32 bytes), whatever the input's
    case or separators."""
    digits = re.sub(r"[^0-9A-Fa-f]", "", value).upper()
    shaped = ":".join(digits[i : i + 2] for i in range(0, len(digits), 2))
    if not _FINGERPRINT.match(shaped):
        raise ConfigError(f"{value!r} is not a SHA-256 fingerprint (32 hex bytes, AB:CD:...)")
    return shaped


def android_origin(fingerprint: str) -> str:
    """The origin Android's Credential Manager reports for an app signed with this key."""
    return origin_of_digest(bytes.fromhex(fingerprint.replace(":", "")))


def android_origins(app: App) -> tuple[str, ...]:
    return tuple(android_origin(f) for f in app.android_fingerprints)


def expected(rt: Runtime, tenant: Tenant) -> tuple[str, ...]:
    def load() -> tuple[str, ...]:
        with rt.read() as conn:
            found = app_store.for_tenant(conn, tenant.id)
        return tuple(o for app in found for o in android_origins(app))

    derived: tuple[str, ...] = rt.cache(_CACHE, TTL_SECONDS).get(tenant.id, load)
    return tuple(dict.fromkeys([*tenant.ceremony_origins, *derived]))


def forget(rt: Runtime, tenant_id: str) -> None:
    """Drop the cached list (after this process changed the tenant's apps)."""
    rt.cache(_CACHE, TTL_SECONDS).forget(tenant_id)
