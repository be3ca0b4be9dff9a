"""The origins a tenant's ceremonies accept: its own list plus the origins its apps' platforms
report: `android:apk-key-hash:` from each Android app's signing certificate, and for native
ceremonies of a tenant with iOS apps `https://<rp id>`, which iOS reports as
`clientDataJSON.origin` for an app associated with the RP ID (apple-app-site-association).

Kept a few seconds in the runtime's cache, so a sign-in does not read the apps table each time;
a fingerprint removed by another process stops being accepted within that time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from latchkey.errors import ConfigError
from latchkey.models import App, Tenant
from latchkey.runtime import Runtime
from latchkey.services.origins import android_origin as origin_of_digest
from latchkey.store import apps as app_store
from latchkey.webauthn.relying_party import RelyingParty

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


def ios_origin(app: App, rp_id: str) -> str | None:
    """The origin iOS reports for this app's passkey ceremonies, when it has iOS settings."""
    return f"https://{rp_id}" if app.ios_team_id and app.ios_bundle_id else None


@dataclass
class _Platforms:
    """What a tenant's apps add, as cached for TTL_SECONDS."""

    android: tuple[str, ...]
    has_ios: bool
    # The relying party built with these, per `native`, for the tenant object it was built for:
    # tenants are cached too, so the same object asks again and again until it is reloaded.
    parties: dict[bool, tuple[Tenant, RelyingParty]] = field(default_factory=dict)


def _platforms(rt: Runtime, tenant: Tenant) -> _Platforms:
    def load() -> _Platforms:
        with rt.read() as conn:
            found = app_store.for_tenant(conn, tenant.id)
        android = tuple(o for app in found for o in android_origins(app))
        return _Platforms(android, any(app.ios_team_id and app.ios_bundle_id for app in found))

    platforms: _Platforms = rt.cache(_CACHE, TTL_SECONDS).get(tenant.id, load)
    return platforms


def expected(rt: Runtime, tenant: Tenant, *, native: bool = False) -> tuple[str, ...]:
    """Every origin a ceremony of this tenant may report. `native`: a ceremony begun by an app
    (the /passkey endpoints), where the iOS origin counts too; a browser on `https://<rp id>`
    is held to the tenant's own list."""
    return _expected(tenant, _platforms(rt, tenant), native)


def _expected(tenant: Tenant, platforms: _Platforms, native: bool) -> tuple[str, ...]:
    ios = [f"https://{tenant.rp_id}"] if native and platforms.has_ios else []
    return tuple(dict.fromkeys([*tenant.ceremony_origins, *platforms.android, *ios]))


def relying_party(rt: Runtime, tenant: Tenant, *, native: bool = False) -> RelyingParty:
    """The tenant's relying party as its ceremonies verify it: with every origin `expected`.
    Built once per cached tenant and cached apps (every sign-in asks)."""
    platforms = _platforms(rt, tenant)
    kept = platforms.parties.get(native)
    if kept is not None and kept[0] is tenant:
        return kept[1]
    party = tenant.relying_party.with_origins(_expected(tenant, platforms, native))
    platforms.parties[native] = (tenant, party)
    return party


def forget(rt: Runtime, tenant_id: str) -> None:
    """Drop the cached list (after this process changed the tenant's apps)."""
    rt.cache(_CACHE, TTL_SECONDS).forget(tenant_id)
