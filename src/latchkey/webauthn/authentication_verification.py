"""verify_authentication_response: WebAuthn L3 §7.2, "Verifying an Authentication Assertion"."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from webauthn.helpers.exceptions import WebAuthnException

from latchkey.webauthn.authenticator_data import check_auth_data, parse_auth_data
from latchkey.webauthn.client_data import check_client_data, parse_client_data
from latchkey.webauthn.encoding import (
    credential_raw_id,
    decode_b64url,
    is_object,
    response_field,
    response_object,
)
from latchkey.webauthn.errors import (
    BadSignature,
    CredentialMismatch,
    InvalidBackupFlags,
    MalformedResponse,
    SignCountRegression,
    UserHandleMismatch,
)
from latchkey.webauthn.public_keys import load_public_key


@dataclass(frozen=True, slots=True)
class VerifiedAuthentication:
    credential_id: bytes
    new_sign_count: int
    user_verified: bool
    backup_eligible: bool
    backup_state: bool


@dataclass(frozen=True, slots=True)
class AssertionIdentity:
    """Who an assertion claims to be, read before any key is looked up (§7.2 steps 5-6)."""

    credential_id: bytes
    user_handle: bytes | None


def read_assertion_identity(credential: Mapping[str, Any]) -> AssertionIdentity:
    raw_id = credential_raw_id(credential)
    response = credential.get("response")
    handle = response.get("userHandle") if is_object(response) else None
    user_handle = decode_b64url(handle, field="response.userHandle") if handle else None
    return AssertionIdentity(raw_id, user_handle)


def verify_authentication_response(
    *,
    credential: Mapping[str, Any],
    expected_challenge: bytes,
    rp_id: str,
    origins: Collection[str],
    public_key: bytes,
    stored_sign_count: int,
    owner_user_handle: bytes | None,
    require_user_verification: bool,
    allowed_credential_ids: Collection[bytes] = (),
    require_user_handle: bool = False,
    stored_backup_eligible: bool | None = None,
    identity: AssertionIdentity | None = None,
) -> VerifiedAuthentication:
    """Verify a get() response against the stored credential; raise the failed step's error.

    `require_user_handle` is for discoverable sign-in, where the user handle is the only link
    from the response to its owner (§7.2 step 6). `identity`: the caller's
    `read_assertion_identity(credential)`, when it read it to look the key up.
    """
    if identity is None:
        identity = read_assertion_identity(credential)
    # §7.2 step 5: when the options listed credentials, the response must use one of them.
    if allowed_credential_ids and identity.credential_id not in allowed_credential_ids:
        raise CredentialMismatch("the credential is not one the options allowed")
    # §7.2 step 6: the credential's owner must be the user the response names.
    _check_user_handle(identity.user_handle, owner_user_handle, required=require_user_handle)

    response = response_object(credential)
    client_data_bytes = response_field(response, "clientDataJSON")
    auth_data_bytes = response_field(response, "authenticatorData")
    signature = response_field(response, "signature")
    # §7.2 steps 10-14: clientDataJSON.
    check_client_data(
        parse_client_data(client_data_bytes),
        expected_type="webauthn.get",
        expected_challenge=expected_challenge,
        origins=origins,
    )
    # §7.2 steps 15-18: RP ID hash, UP, UV, backup flags.
    auth_data = parse_auth_data(auth_data_bytes)
    check_auth_data(
        auth_data,
        rp_id=rp_id,
        require_user_presence=True,
        require_user_verification=require_user_verification,
    )
    # §7.2 step 18: backup eligibility is fixed when the credential is made.
    if stored_backup_eligible is not None and auth_data.flags.be != stored_backup_eligible:
        raise InvalidBackupFlags("the BE flag differs from the one stored at registration")
    # §7.2 steps 20-21: the signature over authenticatorData || SHA-256(clientDataJSON).
    _check_signature(public_key, signature, auth_data_bytes + _sha256(client_data_bytes))
    # §7.2 step 22: a counter that does not increase signals a possibly cloned authenticator.
    # Checked only after the signature so that a forged response cannot flag a genuine key.
    new_count = auth_data.sign_count
    if (new_count or stored_sign_count) and new_count <= stored_sign_count:
        raise SignCountRegression(
            f"sign count {new_count} is not above the stored {stored_sign_count}:"
            " the authenticator may be cloned"
        )
    return VerifiedAuthentication(
        credential_id=identity.credential_id,
        new_sign_count=new_count,
        user_verified=auth_data.flags.uv,
        backup_eligible=auth_data.flags.be,
        backup_state=auth_data.flags.bs,
    )


def _check_user_handle(sent: bytes | None, owner: bytes | None, *, required: bool) -> None:
    if sent is None:
        if required:
            raise UserHandleMismatch("a discoverable sign-in must carry the userHandle")
        return
    # `owner` is None only for a credential imported without its handle: nothing to compare.
    if owner is not None and not hmac.compare_digest(sent, owner):
        raise UserHandleMismatch("userHandle is not the credential owner's user handle")


def _check_signature(public_key: bytes, signature: bytes, data: bytes) -> None:
    verify = load_public_key(public_key).verify
    try:
        verify(signature, data)
    except InvalidSignature as exc:
        raise BadSignature("the assertion signature does not verify") from exc
    except (WebAuthnException, ValueError, TypeError) as exc:
        raise MalformedResponse("the assertion signature cannot be checked") from exc


def _sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()
