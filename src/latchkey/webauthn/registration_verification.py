"""verify_registration_response: WebAuthn L3 §7.1, "Registering a New Credential"."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import cbor2
from webauthn import verify_registration_response as _verify_statement
from webauthn.helpers import aaguid_to_string, parse_attestation_object
from webauthn.helpers.cose import COSEAlgorithmIdentifier
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import AttestationObject

from latchkey.webauthn.attestation import (
    certificates_checked_at,
    check_aaguid_extension,
    check_packed_certificate,
    merge_anchors,
)
from latchkey.webauthn.attestation_policy import AttestationRules, anchors, enforce, trust_of
from latchkey.webauthn.authenticator_data import check_auth_data
from latchkey.webauthn.client_data import check_client_data, parse_client_data
from latchkey.webauthn.encoding import credential_raw_id, response_part
from latchkey.webauthn.errors import (
    BadSignature,
    InvalidAttestation,
    MalformedResponse,
    SyncedPasskeyNotAllowed,
    UnsupportedAlgorithm,
    UnsupportedAttestationFormat,
    UntrustedAttestation,
)
from latchkey.webauthn.public_keys import load_public_key

MAX_CREDENTIAL_ID_LENGTH = 1023  # §7.1 step 25
_LIBRARY_ALGORITHMS = {a.value for a in COSEAlgorithmIdentifier}


@dataclass(frozen=True)
class VerifiedRegistration:
    credential_id: bytes
    public_key: bytes  # COSE_Key, as the authenticator sent it
    alg: int
    sign_count: int
    aaguid: str
    fmt: str
    user_present: bool
    user_verified: bool
    backup_eligible: bool
    backup_state: bool
    transports: tuple[str, ...]
    attachment: str | None
    discoverable: bool | None  # credProps.rk, when the client reported it
    # What the statement proved (attestation_policy: none, self, attested, unanchored) and the
    # metadata's name of the model, when known.
    attestation_trust: str = "none"
    model: str | None = None


def verify_registration_response(
    *,
    credential: Mapping[str, Any],
    expected_challenge: bytes,
    rp_id: str,
    origins: Collection[str],
    allowed_algorithms: Collection[int],
    require_user_verification: bool,
    require_user_presence: bool = True,
    allow_synced: bool = True,
    trust_anchors: Mapping[str, Sequence[bytes]] | None = None,
    checked_at: datetime | None = None,
    rules: AttestationRules | None = None,
) -> VerifiedRegistration:
    """Verify a create() response; raise a VerificationError subclass naming the failed step.

    `require_user_presence=False` is only for a conditional create (§7.1 step 14).
    `checked_at` judges attestation certificates as of that moment (None: now).
    `rules`: the tenant's attestation policy and the FIDO metadata it is judged with.
    """
    raw_id = credential_raw_id(credential)
    client_data_bytes = response_part(credential, "clientDataJSON")
    attestation_bytes = response_part(credential, "attestationObject")

    # §7.1 steps 5-10: clientDataJSON.
    client_data = parse_client_data(client_data_bytes)
    check_client_data(
        client_data,
        expected_type="webauthn.create",
        expected_challenge=expected_challenge,
        origins=origins,
    )
    # §7.1 step 12: CBOR-decode the attestationObject.
    attestation = _parse_attestation(attestation_bytes)
    auth_data = attestation.auth_data
    # §7.1 steps 13-16: RP ID hash, UP, UV, backup flags.
    check_auth_data(
        auth_data,
        rp_id=rp_id,
        require_user_presence=require_user_presence,
        require_user_verification=require_user_verification,
    )
    # §7.1 steps 17-18: the RP's backup policy; a synced passkey lives beyond this device.
    if auth_data.flags.be and not allow_synced:
        raise SyncedPasskeyNotAllowed("this tenant accepts only device-bound passkeys")
    attested = auth_data.attested_credential_data
    if attested is None:
        raise MalformedResponse("authenticatorData carries no attested credential data")
    if attested.credential_id != raw_id:
        raise MalformedResponse("the attested credential id is not the response's rawId")
    # §7.1 step 25.
    if len(raw_id) > MAX_CREDENTIAL_ID_LENGTH:
        raise MalformedResponse("credential id is longer than 1023 bytes")
    # §7.1 step 19: the key's algorithm must be one the options offered.
    alg = _credential_alg(attested.credential_public_key)
    if alg not in allowed_algorithms or alg not in _LIBRARY_ALGORITHMS:
        raise UnsupportedAlgorithm(f"credential algorithm {alg} is not allowed by the policy")
    load_public_key(attested.credential_public_key)  # a key we cannot use is refused now
    # §8.2.1 / §8.3.1, which py_webauthn skips: checked first, as it is the more precise verdict.
    if attestation.fmt in ("packed", "tpm"):
        check_aaguid_extension(attestation.att_stmt.x5c, attested.aaguid)
    if attestation.fmt == "packed":
        check_packed_certificate(attestation.att_stmt.x5c)
    fmt = str(attestation.fmt.value if hasattr(attestation.fmt, "value") else attestation.fmt)
    aaguid = aaguid_to_string(attested.aaguid)
    x5c = attestation.att_stmt.x5c or []
    model = rules.metadata.find(aaguid, x5c) if rules is not None else None
    roots = anchors(rules, fmt, model, merge_anchors(trust_anchors))
    declared = rules is not None and rules.policy.attested and rules.policy.no_anchor(fmt)
    # §7.1 steps 21-24: the attestation statement, its format and trust path.
    _verify_attestation_statement(
        credential,
        expected_challenge=expected_challenge,
        rp_id=rp_id,
        origins=origins,
        alg=alg,
        require_user_presence=require_user_presence,
        trust_anchors=roots,
        checked_at=checked_at,
        no_anchor=declared,
    )
    trust = trust_of(fmt, x5c, roots.get(fmt, []), declared=declared)
    if rules is not None:
        enforce(rules, fmt=fmt, trust=trust, aaguid=aaguid, model=model)
    return VerifiedRegistration(
        credential_id=raw_id,
        public_key=attested.credential_public_key,
        alg=alg,
        sign_count=auth_data.sign_count,
        aaguid=aaguid,
        fmt=fmt,
        user_present=auth_data.flags.up,
        user_verified=auth_data.flags.uv,
        backup_eligible=auth_data.flags.be,
        backup_state=auth_data.flags.bs,
        transports=_transports(credential),
        attachment=_attachment(credential),
        discoverable=_discoverable(credential),
        attestation_trust=trust,
        model=model.description if model is not None else None,
    )


def _parse_attestation(raw: bytes) -> AttestationObject:
    try:
        return parse_attestation_object(raw)
    except Exception as exc:  # cbor2 and the struct builder raise many types on bad bytes
        raise MalformedResponse("attestationObject cannot be parsed") from exc


def _credential_alg(cose_key: bytes) -> int:
    try:
        key = cbor2.loads(cose_key)
    except Exception as exc:  # any CBOR decoding failure
        raise MalformedResponse("credential public key is not CBOR") from exc
    alg = key.get(3) if isinstance(key, dict) else None
    if not isinstance(alg, int) or isinstance(alg, bool):
        raise MalformedResponse("credential public key has no integer alg")
    # A CBOR bignum is an int too; no COSE algorithm is one, and its digits must not reach a
    # message (str() of an int over 4300 digits raises ValueError).
    if not -(2**31) <= alg < 2**31:
        raise UnsupportedAlgorithm("credential algorithm is not a COSE algorithm identifier")
    return alg


def _verify_attestation_statement(
    credential: Mapping[str, Any],
    *,
    expected_challenge: bytes,
    rp_id: str,
    origins: Collection[str],
    alg: int,
    require_user_presence: bool,
    trust_anchors: Mapping[str, Sequence[bytes]],
    checked_at: datetime | None,
    no_anchor: bool,
) -> None:
    try:
        with certificates_checked_at(checked_at, no_anchor=no_anchor):
            _verify_statement(
                credential=dict(credential),
                expected_challenge=expected_challenge,
                expected_rp_id=rp_id,
                expected_origin=list(origins),
                require_user_presence=require_user_presence,
                supported_pub_key_algs=[COSEAlgorithmIdentifier(alg)],
                pem_root_certs_bytes_by_fmt=trust_anchors,  # type: ignore[arg-type]
            )
    except WebAuthnException as exc:
        raise _statement_error(str(exc)) from exc
    except Exception as exc:  # the library can crash on malformed certificates: never a 500
        raise InvalidAttestation("the attestation statement could not be verified") from exc


def _statement_error(message: str) -> Exception:
    lowered = message.lower()
    # The library quotes what it read (a TPM pubArea in hex, a certificate field): keep the
    # answer short, the full text stays on the exception's __cause__.
    if len(message) > 200:
        message = message[:200] + "..."
    if "unsupported attestation type" in lowered:
        return UnsupportedAttestationFormat("the attestation format is not a registered one")
    if "root certificate" in lowered or "certificate chain" in lowered:
        return UntrustedAttestation(f"the attestation is not trusted: {message}")
    if "signature" in lowered:
        return BadSignature(f"the attestation signature does not verify: {message}")
    return InvalidAttestation(f"the attestation statement is invalid: {message}")


def _transports(credential: Mapping[str, Any]) -> tuple[str, ...]:
    response = credential.get("response")
    found = response.get("transports") if isinstance(response, Mapping) else None
    if not isinstance(found, list):
        return ()
    return tuple(t for t in found if isinstance(t, str) and len(t) <= 32)[:8]


def _attachment(credential: Mapping[str, Any]) -> str | None:
    value = credential.get("authenticatorAttachment")
    return value if value in ("platform", "cross-platform") else None


def _discoverable(credential: Mapping[str, Any]) -> bool | None:
    results = credential.get("clientExtensionResults")
    props = results.get("credProps") if isinstance(results, Mapping) else None
    rk = props.get("rk") if isinstance(props, Mapping) else None
    return rk if isinstance(rk, bool) else None
