"""The portal's own passkeys: an operator registers one through a one-time enrolment link,
then signs in with it, through the same ceremonies as every tenant (services/ceremony.py): the
same options, verification, sealed single-use challenges, sign-count rule and clone flag.

The relying party is the Latchkey host itself (RP ID: the public URL's host; origin: the public
URL's origin) with a strict policy: a discoverable credential and user verification, always.
The keyring is the operators' passkeys (store/operators.py); an operator has no tenant and so no
event log, so each outcome is logged as a tenant's passkey.* event would say it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from latchkey.errors import ChallengeError, LatchkeyError, Unauthorized
from latchkey.ids import new_id
from latchkey.models import Challenge
from latchkey.runtime import RequestMeta, Runtime
from latchkey.services import ceremony, challenges, sealed_challenges
from latchkey.services.operators import accounts, sessions
from latchkey.services.operators.accounts import OperatorAccount
from latchkey.services.passkey_options import PasskeyUser
from latchkey.store import operators as operator_store
from latchkey.webauthn.aaguids import default_credential_name
from latchkey.webauthn.authentication_verification import VerifiedAuthentication
from latchkey.webauthn.errors import SignCountRegression
from latchkey.webauthn.policy import PasskeyPolicy
from latchkey.webauthn.registration_verification import VerifiedRegistration
from latchkey.webauthn.relying_party import RelyingParty

log = logging.getLogger("latchkey.portal")
POLICY = PasskeyPolicy(user_verification="required", resident_key="required")
# What the portal's sealed challenges are bound to: never a tenant's id (those are UUIDs).
SCOPE = "latchkey:portal"


class InvalidEnrolmentLink(Unauthorized):
    code = "invalid_enrolment_link"


class OperatorSignInFailed(Unauthorized):
    code = "operator_sign_in_failed"


@dataclass(frozen=True)
class Started:
    challenge_id: str
    options: dict[str, Any]


@dataclass(frozen=True)
class SignedIn:
    operator: OperatorAccount
    session_secret: str


def relying_party(rt: Runtime) -> RelyingParty:
    """The portal's own relying party: this host, its origin, the strict policy."""
    return RelyingParty(
        accounts.portal_rp_id(rt), "Latchkey portal", (accounts.portal_origin(rt),), POLICY
    )


def _open_link(rt: Runtime, token: str) -> Any:
    if not isinstance(token, str) or not 10 <= len(token) <= 100:
        raise InvalidEnrolmentLink("the enrolment link is malformed")
    with rt.read() as conn:
        link = operator_store.open_enrolment(conn, accounts.secret_hash(token), rt.now())
    if link is None:
        raise InvalidEnrolmentLink("the enrolment link is unknown, used or expired")
    return link


def _unusable() -> ChallengeError:
    # One answer for every unusable challenge, as the portal's pages have always had it.
    return ChallengeError("the challenge is unknown, used or expired: start again")


def enrol_options(rt: Runtime, token: str) -> Started:
    """Creation options for the link's operator (the link is checked, not yet used; the
    challenge, sealed to the link, is not stored)."""
    link = _open_link(rt, token)
    with rt.read() as conn:
        who = operator_store.operator(conn, link.operator_id)
        have = operator_store.passkeys_of(conn, who.id)
    challenge = sealed_challenges.issue(
        rt,
        scope=SCOPE,
        timeout_ms=POLICY.timeout_ms,
        kind=challenges.REGISTRATION,
        user_id=None,
        context={"enrolment_id": link.id},
    )
    user = PasskeyUser(who.user_handle, who.name, who.name)
    begun = ceremony.registration_options(relying_party(rt), challenge, user, exclude=have)
    return Started(begun.challenge_id, begun.options)


def enrol_finish(
    rt: Runtime, token: str, challenge_id: str, credential: Any, meta: RequestMeta
) -> SignedIn:
    """Verify the new passkey, use the link up, store the passkey and start a session, all or
    nothing: a link is spent only by a passkey that verified."""
    link = _open_link(rt, token)

    def same_link(_conn: Connection, challenge: Challenge) -> None:
        if challenge.context.get("enrolment_id") != link.id:
            raise ChallengeError("the challenge was issued for another enrolment link")

    def open_session(conn: Connection, _challenge: Challenge, result: OperatorEnrolment) -> str:
        return sessions.start(conn, rt, result.user.id, meta)

    try:
        done = ceremony.finish_registration(
            rt,
            relying_party(rt),
            KEYRING,
            challenge_id=challenge_id,
            credential=credential,
            meta=meta,
            check=same_link,
            then=open_session,
        )
    except ChallengeError as exc:
        raise _unusable() from exc
    return SignedIn(OperatorAccount.of(done.user), done.records)


def login_options(rt: Runtime) -> Started:
    """Request options for a discoverable credential: the browser offers the operator's
    passkeys for this host. Nothing is written (a sealed challenge, as a tenant's sign-in)."""
    begun = ceremony.begin_sign_in(rt, relying_party(rt), KEYRING)
    return Started(begun.challenge_id, begun.options)


def login_finish(rt: Runtime, challenge_id: str, credential: Any, meta: RequestMeta) -> SignedIn:
    """The shared sign-in; the portal session is opened in the sign-in's transaction."""

    def open_session(conn: Connection, _challenge: Challenge, result: OperatorSignIn) -> str:
        return sessions.start(conn, rt, result.user.id, meta)

    try:
        done = ceremony.finish_sign_in(
            rt,
            relying_party(rt),
            KEYRING,
            challenge_id=challenge_id,
            credential=credential,
            meta=meta,
            then=open_session,
        )
    except ChallengeError as exc:
        raise _unusable() from exc
    return SignedIn(OperatorAccount.of(done.user), done.records)


# Operators and their passkeys are store/operators.py's rows.
OperatorSignIn = ceremony.Authenticated[Any, Any, None]
OperatorEnrolment = ceremony.Registered[Any, Any, None]


class PortalKeyring:
    """The operators' passkeys, never with the credential or anything secret in the log."""

    scope = SCOPE

    def find(self, rt: Runtime, credential_id: bytes) -> tuple[Any, Any]:
        with rt.read() as conn:
            stored = operator_store.passkey_by_credential_id(conn, credential_id)
            owner = (
                operator_store.operator(conn, stored.operator_id) if stored is not None else None
            )
        if stored is None or owner is None:
            raise OperatorSignInFailed("this passkey is not an operator's passkey of this portal")
        return stored, owner

    def check_holder(self, holder: Any) -> None:
        if holder.disabled_at is not None:
            raise OperatorSignInFailed("this passkey is not an operator's passkey of this portal")

    def check_verified(self, rt: Runtime, passkey: Any) -> None:
        return None  # no authenticator status rule applies to operators' passkeys

    def record_use(
        self,
        conn: Connection,
        rt: Runtime,
        found: tuple[Any, Any],
        verified: VerifiedAuthentication,
        now: datetime,
    ) -> tuple[Any, Any]:
        # `find` read the passkey and its operator just now, outside any cache.
        passkey, operator = found
        moved = operator_store.record_passkey_use(
            conn, passkey.id, verified.new_sign_count, verified.backup_state, now
        )
        if not moved:
            raise SignCountRegression("the sign count did not rise above the stored one")
        return passkey, operator

    def flag_possible_clone(self, conn: Connection, passkey: Any) -> None:
        operator_store.mark_passkey_possible_clone(conn, passkey.id)

    def log_sign_in(
        self,
        conn: Connection,
        rt: Runtime,
        meta: RequestMeta,
        *,
        holder: Any,
        passkey: Any,
        challenge: Challenge | None,
        verified: VerifiedAuthentication | None = None,
        error: LatchkeyError | None = None,
    ) -> None:
        _log("passkey.authentication", holder, passkey, error)

    def add(
        self, conn: Connection, rt: Runtime, challenge: Challenge, verified: VerifiedRegistration
    ) -> tuple[Any, Any]:
        if verified.discoverable is False:
            # The portal's sign-in asks for a discoverable credential: this one never answers.
            raise InvalidEnrolmentLink("the authenticator made a non-discoverable credential")
        now = rt.now()
        link_id = challenge.context["enrolment_id"]
        link = operator_store.use_enrolment(conn, link_id, now)
        if link is None:
            raise InvalidEnrolmentLink("the enrolment link is unknown, used or expired")
        if operator_store.passkey_by_credential_id(conn, verified.credential_id) is not None:
            raise InvalidEnrolmentLink("this passkey is already registered")
        passkey_id = new_id()
        operator_store.add_passkey(
            conn,
            id=passkey_id,
            operator_id=link.operator_id,
            credential_id=verified.credential_id,
            public_key=verified.public_key,
            alg=verified.alg,
            sign_count=verified.sign_count,
            aaguid=verified.aaguid,
            backup_eligible=verified.backup_eligible,
            backup_state=verified.backup_state,
            transports=list(verified.transports),
            name=default_credential_name(verified.aaguid, attachment=verified.attachment),
            created_at=now,
        )
        return operator_store.operator(conn, link.operator_id), operator_store.passkey(
            conn, passkey_id
        )

    def log_registration(
        self,
        conn: Connection,
        rt: Runtime,
        meta: RequestMeta,
        *,
        holder: Any,
        passkey: Any,
        verified: VerifiedRegistration,
        conditional: bool,
    ) -> None:
        _log("passkey.registration", holder, passkey, None)

    def log_registration_failure(
        self, rt: Runtime, meta: RequestMeta, error: LatchkeyError, user_id: str | None
    ) -> None:
        _log("passkey.registration", None, None, error)


def _log(kind: str, holder: Any, passkey: Any, error: LatchkeyError | None) -> None:
    who = holder.id if holder is not None else None
    key = passkey.id if passkey is not None else None
    if error is None:
        log.info("%s success: operator %s, passkey %s", kind, who, key)
    else:
        log.warning("%s failure %s: operator %s, passkey %s", kind, error.code, who, key)


KEYRING = PortalKeyring()
