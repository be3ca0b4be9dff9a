"""generate_authentication_options: PublicKeyCredentialRequestOptionsJSON (WebAuthn §5.5)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from webauthn import generate_authentication_options as _generate
from webauthn.helpers import options_to_json_dict
from webauthn.helpers.structs import UserVerificationRequirement

from latchkey.webauthn.descriptors import CredentialRef, to_descriptors
from latchkey.webauthn.policy import PasskeyPolicy


def generate_authentication_options(
    *,
    rp_id: str,
    challenge: bytes,
    policy: PasskeyPolicy,
    allow: Sequence[CredentialRef] = (),
) -> dict[str, Any]:
    """Options for navigator.credentials.get().

    An empty `allow` asks for a discoverable credential: the browser offers the user's passkeys
    for this RP, which is what the sign-in button and conditional UI (autofill) need.
    """
    options = _generate(
        rp_id=rp_id,
        challenge=challenge,
        timeout=policy.timeout_ms,
        allow_credentials=to_descriptors(allow),
        user_verification=UserVerificationRequirement(policy.user_verification),
    )
    return options_to_json_dict(options)
