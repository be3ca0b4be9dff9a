"""generate_authentication_options: PublicKeyCredentialRequestOptionsJSON (WebAuthn §5.5)."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from webauthn import generate_authentication_options as _generate
from webauthn.helpers import bytes_to_base64url, options_to_json_dict
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
    if not allow:
        # Every discoverable sign-in of a relying party has the same options but their
        # challenge: py_webauthn builds them once, and each copy gets its own challenge.
        made, lists = _discoverable(rp_id, policy.timeout_ms, policy.user_verification)
        options = made.copy()
        for key in lists:  # a copy's own lists: one caller's change reaches no other
            options[key] = list(made[key])
        options["challenge"] = bytes_to_base64url(challenge)
        return options
    return _options(rp_id, challenge, policy.timeout_ms, policy.user_verification, allow)


def _options(
    rp_id: str,
    challenge: bytes,
    timeout_ms: int,
    user_verification: str,
    allow: Sequence[CredentialRef],
) -> dict[str, Any]:
    options = _generate(
        rp_id=rp_id,
        challenge=challenge,
        timeout=timeout_ms,
        allow_credentials=to_descriptors(allow),
        user_verification=UserVerificationRequirement(user_verification),
    )
    return options_to_json_dict(options)


@lru_cache(maxsize=1024)
def _discoverable(
    rp_id: str, timeout_ms: int, user_verification: str
) -> tuple[dict[str, Any], tuple[str, ...]]:
    """The options without `allow` (their challenge to be replaced), and which of their values
    are lists."""
    made = _options(rp_id, b"\0", timeout_ms, user_verification, ())
    return made, tuple(key for key, value in made.items() if isinstance(value, list))
