"""The relying party a ceremony is for: its RP ID, its name, the origins its clients may report and
its passkey policy. A tenant builds its own (models.Tenant.relying_party; an identity pool renames
it), the operator portal its own (services/operators/ceremonies.py); the ceremonies take it as a
parameter, so every relying party's options and verification go through the same steps."""

from __future__ import annotations

from dataclasses import dataclass

from latchkey.webauthn.policy import PasskeyPolicy


@dataclass(frozen=True)
class RelyingParty:
    id: str
    name: str
    origins: tuple[str, ...]
    policy: PasskeyPolicy

    def named(self, name: str) -> RelyingParty:
        """The same relying party under another name (an identity pool's, shown by browsers)."""
        return RelyingParty(self.id, name, self.origins, self.policy)

    def with_origins(self, origins: tuple[str, ...]) -> RelyingParty:
        # Not dataclasses.replace: this runs on every sign-in, and a plain call is cheaper.
        return RelyingParty(self.id, self.name, origins, self.policy)
