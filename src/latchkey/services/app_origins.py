"""The origins a tenant's ceremonies accept: its own list plus the `android:apk-key-hash:`
origins derived from its apps' signing certificates.

Kept a few seconds per process, so a sign-in does not read the apps table each time; a removed
fingerprint stops being accepted within that time.
"""

from __future__ import annotations

import re
import time
from base64 import urlsafe_b64encode

from latchkey.errors import ConfigError
from latchkey.models import App, Tenant
from latchkey.services.runtime import Runtime
from latchkey.store import apps as app_store

TTL_SECONDS = 5.0
_FINGERPRINT = re.compile(r"^[0-9A-F]{2}(:[0-9A-F]{2}){31}$")
_cache: dict[str, tuple[float, tuple[str, ...]]] = {}


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
    raw = bytes.fromhex(fingerprint.replace(":", ""))
    return "android:apk-key-hash:" + urlsafe_b64encode(raw).rstrip(b"=").decode()


def android_origins(app: App) -> tuple[str, ...]:
    return tuple(android_origin(f) for f in app.android_fingerprints)


def expected(rt: Runtime, tenant: Tenant) -> tuple[str, ...]:
    now = time.monotonic()
    cached = _cache.get(tenant.id)
    if cached is None or now - cached[0] > TTL_SECONDS:
        with rt.read() as conn:
            derived = [
                o for app in app_store.for_tenant(conn, tenant.id) for o in android_origins(app)
            ]
        cached = (now, tuple(derived))
        _cache[tenant.id] = cached
    return tuple(dict.fromkeys([*tenant.ceremony_origins, *cached[1]]))


def forget(tenant_id: str) -> None:
    """Drop the cached list (after this process changed the tenant's apps)."""
    _cache.pop(tenant_id, None)
