"""generate_registration_options: PublicKeyCredentialCreationOptionsJSON (WebAuthn §5.4)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from webauthn import generate_registration_options as _generate
from webauthn.helpers import options_to_json_dict
from webauthn.helpers.cose import COSEAlgorithmIdentifier
from webauthn.helpers.structs import (
    AttestationConveyancePreference,
    AuthenticatorAttachment,
    AuthenticatorSelectionCriteria,
    PublicKeyCredentialHint,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from latchkey.webauthn.descriptors import CredentialRef, to_descriptors
from latchkey.webauthn.policy import PasskeyPolicy


def generate_registration_options(
    *,
    rp_id: str,
    rp_name: str,
    user_handle: bytes,
    user_name: str,
    user_display_name: str,
    challenge: bytes,
    policy: PasskeyPolicy,
    exclude: Sequence[CredentialRef] = (),
    attachment: str | None = None,
    hints: Sequence[str] = (),
) -> dict[str, Any]:
    """Options for navigator.credentials.create(), as PublicKeyCredentialCreationOptionsJSON."""
    chosen_attachment = attachment or policy.authenticator_attachment
    selection = AuthenticatorSelectionCriteria(
        authenticator_attachment=AuthenticatorAttachment(chosen_attachment)
        if chosen_attachment
        else None,
        resident_key=ResidentKeyRequirement(policy.resident_key),
        require_resident_key=policy.resident_key == "required",
        user_verification=UserVerificationRequirement(policy.user_verification),
    )
    options = _generate(
        rp_id=rp_id,
        rp_name=rp_name,
        user_id=user_handle,
        user_name=user_name,
        user_display_name=user_display_name,
        challenge=challenge,
        timeout=policy.timeout_ms,
        attestation=AttestationConveyancePreference(policy.attestation),
        authenticator_selection=selection,
        # §5.4.3: excludeCredentials stops an authenticator making a second passkey for the user.
        exclude_credentials=to_descriptors(exclude),
        supported_pub_key_algs=[COSEAlgorithmIdentifier(a) for a in policy.algorithm_ids],
        hints=[PublicKeyCredentialHint(h) for h in hints] or None,
    )
    data = options_to_json_dict(options)
    # credProps (§10.1.3) tells us whether the authenticator made a discoverable credential.
    data["extensions"] = {"credProps": True}
    return data
