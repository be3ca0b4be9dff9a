"""The association documents a tenant's RP ID host serves, generated from its apps and origins:
Apple's apple-app-site-association (webcredentials), Google's Digital Asset Links, and the
WebAuthn Related Origin Requests list (/.well-known/webauthn)."""

from __future__ import annotations

from functools import cache
from typing import Any
from urllib.parse import urlsplit

import tldextract

from latchkey.models import App, Tenant

# Associate the app with the site for sign-in credentials, and for links as the docs pair them.
ANDROID_RELATIONS = [
    "delegate_permission/common.handle_all_urls",
    "delegate_permission/common.get_login_creds",
]


@cache
def _extract() -> tldextract.TLDExtract:
    # The bundled Public Suffix List snapshot: never fetched at run time.
    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)


@cache
def _extract_with_private() -> tldextract.TLDExtract:
    # The same snapshot with the private section too (github.io, appspot.com, ...).
    return tldextract.TLDExtract(
        suffix_list_urls=(), cache_dir=None, include_psl_private_domains=True
    )


def is_public_suffix(host: str) -> bool:
    """Whether the host is itself a public suffix (com, co.uk, github.io), under which anyone
    may register names."""
    found = _extract_with_private()(host)
    return bool(found.suffix) and not found.domain


def apple_app_site_association(apps: list[App]) -> dict[str, Any]:
    ids = [f"{a.ios_team_id}.{a.ios_bundle_id}" for a in apps if a.ios_team_id and a.ios_bundle_id]
    return {"webcredentials": {"apps": sorted(set(ids))}}


def asset_links(apps: list[App]) -> list[dict[str, Any]]:
    return [
        {
            "relation": ANDROID_RELATIONS,
            "target": {
                "namespace": "android_app",
                "package_name": a.android_package,
                "sha256_cert_fingerprints": list(a.android_fingerprints),
            },
        }
        for a in apps
        if a.android_package and a.android_fingerprints
    ]


def registrable_domain(origin: str) -> str:
    host = urlsplit(origin).hostname or ""
    found = _extract()(host)
    return found.top_domain_under_public_suffix or host


def related_origins(tenant: Tenant) -> dict[str, Any] | None:
    """The WebAuthn Related Origin Requests document, or None when every web origin shares one
    registrable domain (browsers need no list then)."""
    web = list(tenant.web_origins)
    if len({registrable_domain(o) for o in web}) <= 1:
        return None
    return {"origins": web}
