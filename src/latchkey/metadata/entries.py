"""Reading an MDS3 payload (FIDO Metadata Service 3.0 §3.1) into the facts Latchkey acts on.

Read leniently: an entry that lacks a field the reader needs is kept with what it has (the
bundled data and real blobs both carry entries with optional fields missing), and one entry that
cannot be read at all is skipped, never the whole payload.
"""

from __future__ import annotations

import binascii
import uuid
from base64 import b64decode
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from cryptography import x509

# MDS3 §3.1.4 AuthenticatorStatus values that say the model's keys cannot be trusted.
COMPROMISED = (
    "REVOKED",
    "ATTESTATION_KEY_COMPROMISE",
    "USER_VERIFICATION_BYPASS",
    "USER_KEY_REMOTE_COMPROMISE",
    "USER_KEY_PHYSICAL_COMPROMISE",
)
# Certification levels, lowest first; FIDO_CERTIFIED (deprecated) means L1.
CERTIFICATION_LEVELS = ("L1", "L1plus", "L2", "L2plus", "L3", "L3plus")
_CERTIFIED = {f"FIDO_CERTIFIED_{level}": level for level in CERTIFICATION_LEVELS}
_CERTIFIED["FIDO_CERTIFIED"] = "L1"


@dataclass(frozen=True)
class StatusReport:
    status: str
    effective_date: date | None


@dataclass(frozen=True)
class AuthenticatorModel:
    """One metadata entry: a model, by AAGUID (FIDO2) or attestation key identifiers (U2F)."""

    aaguid: str | None
    description: str
    icon: str | None  # a data: URI (MDS3 §4.5 "icon"), served by Latchkey, never linked
    status_reports: tuple[StatusReport, ...] = ()
    key_protection: tuple[str, ...] = ()
    attachment_hint: tuple[str, ...] = ()
    attestation_types: tuple[str, ...] = ()
    root_certificates: tuple[bytes, ...] = ()  # DER
    key_identifiers: tuple[str, ...] = ()  # hex SKI of U2F attestation certificates

    @property
    def status(self) -> str | None:
        """The latest status report's status (by effectiveDate), or None without reports."""
        if not self.status_reports:
            return None
        ordered = sorted(
            enumerate(self.status_reports),
            key=lambda item: (item[1].effective_date or date.min, item[0]),
        )
        return ordered[-1][1].status

    @property
    def compromised_status(self) -> str | None:
        """The status that forbids this model: REVOKED whenever reported (a revocation is not
        undone by a later certificate), else the latest status if it is a compromise."""
        if any(report.status == "REVOKED" for report in self.status_reports):
            return "REVOKED"
        latest = self.status
        return latest if latest in COMPROMISED else None

    @property
    def certification(self) -> str | None:
        """The highest FIDO certification level reported: L1 ... L3plus, or None."""
        levels = [_CERTIFIED[r.status] for r in self.status_reports if r.status in _CERTIFIED]
        return max(levels, key=CERTIFICATION_LEVELS.index) if levels else None

    @property
    def attachment(self) -> str | None:
        """platform / cross-platform when the metadata says only one (MDS3 attachmentHint)."""
        internal = "internal" in self.attachment_hint
        external = "external" in self.attachment_hint
        if internal and not external:
            return "platform"
        if external and not internal:
            return "cross-platform"
        return None

    def to_summary(self) -> dict[str, Any]:
        return {
            "aaguid": self.aaguid,
            "name": self.description,
            "status": self.status,
            "compromised_status": self.compromised_status,
            "certification": self.certification,
            "key_protection": list(self.key_protection),
            "attachment": self.attachment,
        }


@dataclass(frozen=True)
class Metadata:
    """A whole MDS3 payload: its serial `no`, `nextUpdate`, where it came from, its models."""

    no: int
    next_update: date
    source: str
    models: tuple[AuthenticatorModel, ...]
    _by_aaguid: dict[str, AuthenticatorModel] = field(default_factory=dict, compare=False)
    _by_key_id: dict[str, AuthenticatorModel] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        for model in self.models:
            if model.aaguid:
                self._by_aaguid.setdefault(model.aaguid, model)
            for key_id in model.key_identifiers:
                self._by_key_id.setdefault(key_id, model)

    def by_aaguid(self, aaguid: str | None) -> AuthenticatorModel | None:
        return self._by_aaguid.get(aaguid.lower()) if aaguid else None

    def by_certificates(self, x5c: Sequence[bytes]) -> AuthenticatorModel | None:
        """A U2F model (no AAGUID) by the subject key identifier of a certificate in its chain
        (MDS3 attestationCertificateKeyIdentifiers: SHA-1 of the public key, RFC 5280
        §4.2.1.2 method 1)."""
        for der in x5c:
            key_id = _key_identifier(der)
            if key_id is not None and key_id in self._by_key_id:
                return self._by_key_id[key_id]
        return None

    def find(self, aaguid: str | None, x5c: Sequence[bytes] = ()) -> AuthenticatorModel | None:
        found = self.by_aaguid(aaguid) if aaguid and aaguid != ZERO_AAGUID else None
        return found or (self.by_certificates(x5c) if x5c else None)

    def stale(self, today: date) -> bool:
        """Past nextUpdate: a newer payload should exist (a warning, never an outage)."""
        return today > self.next_update

    def info(self, today: date) -> dict[str, Any]:
        return {
            "no": self.no,
            "next_update": self.next_update.isoformat(),
            "source": self.source,
            "models": len(self.models),
            "stale": self.stale(today),
        }


ZERO_AAGUID = "00000000-0000-0000-0000-000000000000"


def _key_identifier(der: Any) -> str | None:
    """The hex subject key identifier of a certificate's key; None for one we cannot read
    (hostile bytes, an unknown key type: it names no model)."""
    try:
        key = x509.load_der_x509_certificate(der).public_key()
        return x509.SubjectKeyIdentifier.from_public_key(key).digest.hex()
    except Exception:  # cryptography raises ValueError, TypeError, UnsupportedAlgorithm
        return None


class UnreadablePayload(ValueError):
    """The payload is not MDS3 metadata (no serial, nextUpdate or entries)."""


def read_payload(payload: Mapping[str, Any], source: str) -> Metadata:
    try:
        no = payload["no"]
        next_update = date.fromisoformat(payload["nextUpdate"])
        entries = payload["entries"]
    except (KeyError, TypeError, ValueError) as exc:
        raise UnreadablePayload(f"not MDS3 metadata: {exc!r}") from exc
    if not isinstance(no, int) or isinstance(no, bool) or no < 0 or not isinstance(entries, list):
        raise UnreadablePayload("not MDS3 metadata: bad serial number or entries")
    models = tuple(m for m in (_model(e) for e in entries) if m is not None)
    return Metadata(no=no, next_update=next_update, source=source, models=models)


def _strings(value: Any) -> tuple[str, ...]:
    return tuple(v for v in value if isinstance(v, str)) if isinstance(value, list) else ()


def _report(raw: Any) -> StatusReport | None:
    if not isinstance(raw, Mapping) or not isinstance(raw.get("status"), str):
        return None
    try:
        effective = date.fromisoformat(raw["effectiveDate"]) if raw.get("effectiveDate") else None
    except (TypeError, ValueError):
        effective = None
    return StatusReport(raw["status"], effective)


def _der(value: Any) -> bytes | None:
    try:
        return b64decode(value, validate=True) if isinstance(value, str) else None
    except (binascii.Error, ValueError):
        return None


def _model(entry: Any) -> AuthenticatorModel | None:
    if not isinstance(entry, Mapping):
        return None
    statement = entry.get("metadataStatement")
    statement = statement if isinstance(statement, Mapping) else {}
    aaguid = entry.get("aaguid") or statement.get("aaguid")
    try:
        aaguid = str(uuid.UUID(aaguid)) if isinstance(aaguid, str) else None
    except ValueError:
        aaguid = None
    key_ids = tuple(k.lower() for k in _strings(entry.get("attestationCertificateKeyIdentifiers")))
    if aaguid is None and not key_ids:
        return None  # a UAF model (AAID): not a WebAuthn authenticator
    description = statement.get("description")
    icon = statement.get("icon")
    reports = entry.get("statusReports")
    return AuthenticatorModel(
        aaguid=aaguid,
        description=description if isinstance(description, str) else "Unknown authenticator",
        icon=icon if isinstance(icon, str) and icon.startswith("data:image/") else None,
        status_reports=tuple(
            r for r in (_report(raw) for raw in (reports if isinstance(reports, list) else ())) if r
        ),
        key_protection=_strings(statement.get("keyProtection")),
        attachment_hint=_strings(statement.get("attachmentHint")),
        attestation_types=_strings(statement.get("attestationTypes")),
        root_certificates=tuple(
            d
            for d in (_der(c) for c in _strings(statement.get("attestationRootCertificates")))
            if d
        ),
        key_identifiers=key_ids,
    )
