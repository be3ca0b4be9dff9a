"""Ceremony options, built in one place for every relying party and surface (the /v1 client
API, the ceremony API, native apps, identity pools and the operator portal): creation options
name the relying party, the user and the passkeys they already hold (excludeCredentials);
request options name the passkeys that may answer (allowCredentials), or none for a
discoverable sign-in. What the user is called is decided once, with its fallbacks, when the
registration challenge is issued, and read back from it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from latchkey.webauthn.authentication_options import generate_authentication_options
from latchkey.webauthn.descriptors import CredentialRef
from latchkey.webauthn.encoding import b64url, b64url_decode
from latchkey.webauthn.registration_options import generate_registration_options
from latchkey.webauthn.relying_party import RelyingParty


class StoredPasskey(Protocol):
    """What the options need of a stored passkey (a tenant's credential, an operator's)."""

    @property
    def credential_id(self) -> bytes: ...

    @property
    def transports(self) -> Sequence[str]: ...


@dataclass(frozen=True)
class PasskeyUser:
    """The user entity of creation options (WebAuthn §5.4.3)."""

    handle: bytes
    name: str
    display_name: str

    @classmethod
    def named(
        cls, handle: bytes, *, fallback: str, name: str | None, display_name: str | None
    ) -> PasskeyUser:
        """The name is `name`, else `fallback` (an id); the display name is `display_name`,
        else the name."""
        chosen = name or fallback
        return cls(handle, chosen, display_name or chosen)

    @classmethod
    def of_context(cls, context: Mapping[str, Any]) -> PasskeyUser:
        """The user a registration challenge was issued for (see `context`)."""
        return cls(
            b64url_decode(context["user_handle"]), context["username"], context["display_name"]
        )

    def context(self) -> dict[str, str]:
        """The user as a registration challenge's context keeps it until finish."""
        return {
            "user_handle": b64url(self.handle),
            "username": self.name,
            "display_name": self.display_name,
        }


def _refs(passkeys: Iterable[StoredPasskey]) -> list[CredentialRef]:
    return [CredentialRef(p.credential_id, tuple(p.transports)) for p in passkeys]


def creation_options(
    rp: RelyingParty,
    user: PasskeyUser,
    challenge: bytes,
    *,
    exclude: Iterable[StoredPasskey] = (),
    attachment: str | None = None,
    hints: Sequence[str] = (),
) -> dict[str, Any]:
    """Options for navigator.credentials.create(); `exclude`: the user's passkeys, so an
    authenticator does not make a second one for them."""
    return generate_registration_options(
        rp_id=rp.id,
        rp_name=rp.name,
        user_handle=user.handle,
        user_name=user.name,
        user_display_name=user.display_name,
        challenge=challenge,
        policy=rp.policy,
        exclude=_refs(exclude),
        attachment=attachment,
        hints=hints,
    )


def request_options(
    rp: RelyingParty, challenge: bytes, *, allow: Iterable[StoredPasskey] = ()
) -> dict[str, Any]:
    """Options for navigator.credentials.get(); no `allow`: any discoverable passkey."""
    return generate_authentication_options(
        rp_id=rp.id, challenge=challenge, policy=rp.policy, allow=_refs(allow)
    )
