"""The portal's own WebAuthn ceremonies: an operator registers a passkey through a one-time
enrolment link, then signs in with it. The relying party is the Latchkey host itself (RP ID:
the public URL's host; origin: the public URL's origin). Options and verification are
Latchkey's webauthn/ layer, unchanged; the policy is strict: a discoverable credential and
user verification, always.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from latchkey.errors import ChallengeError, LatchkeyError, Unauthorized
from latchkey.ids import new_challenge, new_id, new_token
from latchkey.portal import store
from latchkey.runtime import RequestMeta, Runtime
from latchkey.services.operators import accounts, sessions
from latchkey.services.operators.accounts import OperatorAccount
from latchkey.services.passkey_options import PasskeyUser, creation_options, request_options
from latchkey.webauthn.aaguids import default_credential_name
from latchkey.webauthn.authentication_verification import (
    read_assertion_identity,
    verify_authentication_response,
)
from latchkey.webauthn.policy import PasskeyPolicy
from latchkey.webauthn.registration_verification import verify_registration_response
from latchkey.webauthn.relying_party import RelyingParty

log = logging.getLogger("latchkey.portal")
POLICY = PasskeyPolicy(user_verification="required", resident_key="required")
CHALLENGE_TTL = timedelta(milliseconds=POLICY.timeout_ms)
ENROL, LOGIN = "enrol", "login"


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


def _issue(rt: Runtime, kind: str, enrolment_id: str | None = None) -> tuple[str, bytes]:
    challenge_id, challenge = new_token(32), new_challenge()
    now = rt.now()
    with rt.transaction() as conn:
        store.add_challenge(
            conn,
            id=challenge_id,
            kind=kind,
            enrolment_id=enrolment_id,
            challenge=challenge,
            created_at=now,
            expires_at=now + CHALLENGE_TTL,
        )
    return challenge_id, challenge


def _consume(rt: Runtime, challenge_id: str, kind: str) -> Any:
    if not isinstance(challenge_id, str) or not 1 <= len(challenge_id) <= 64:
        raise ChallengeError("challengeId is missing or malformed")
    with rt.transaction() as conn:
        row = store.consume_challenge(conn, challenge_id, kind, rt.now())
    if row is None:
        raise ChallengeError("the challenge is unknown, used or expired: start again")
    return row


def _open_link(rt: Runtime, token: str) -> Any:
    if not isinstance(token, str) or not 10 <= len(token) <= 100:
        raise InvalidEnrolmentLink("the enrolment link is malformed")
    with rt.read() as conn:
        link = store.open_enrolment(conn, accounts.secret_hash(token), rt.now())
    if link is None:
        raise InvalidEnrolmentLink("the enrolment link is unknown, used or expired")
    return link


def enrol_options(rt: Runtime, token: str) -> Started:
    """Creation options for the link's operator (the link is checked, not yet used)."""
    link = _open_link(rt, token)
    with rt.read() as conn:
        who = store.operator(conn, link.operator_id)
        have = store.passkeys_of(conn, who.id)
    challenge_id, challenge = _issue(rt, ENROL, link.id)
    user = PasskeyUser(who.user_handle, who.name, who.name)
    options = creation_options(relying_party(rt), user, challenge, exclude=have)
    return Started(challenge_id, options)


def enrol_finish(
    rt: Runtime, token: str, challenge_id: str, credential: Any, meta: RequestMeta
) -> SignedIn:
    """Verify the new passkey, use the link up, store the passkey and start a session, all or
    nothing: a link is spent only by a passkey that verified."""
    link = _open_link(rt, token)
    challenge = _consume(rt, challenge_id, ENROL)
    if challenge.enrolment_id != link.id:
        raise ChallengeError("the challenge was issued for another enrolment link")
    verified = verify_registration_response(
        credential=credential,
        expected_challenge=challenge.challenge,
        rp_id=accounts.portal_rp_id(rt),
        origins=[accounts.portal_origin(rt)],
        allowed_algorithms=POLICY.algorithm_ids,
        require_user_verification=True,
        trust_anchors=rt.trust_anchors,
    )
    if verified.discoverable is False:
        # The portal's sign-in asks for a discoverable credential: this one could never answer.
        raise InvalidEnrolmentLink("the authenticator made a non-discoverable credential")
    now = rt.now()
    with rt.transaction() as conn:
        if not store.use_enrolment(conn, link.id, now):
            raise InvalidEnrolmentLink("the enrolment link is unknown, used or expired")
        if store.passkey_by_credential_id(conn, verified.credential_id) is not None:
            raise InvalidEnrolmentLink("this passkey is already registered")
        store.add_passkey(
            conn,
            id=new_id(),
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
        who = OperatorAccount.of(store.operator(conn, link.operator_id))
        secret = sessions.start(conn, rt, who.id, meta)
    log.info("operator %s enrolled a passkey", who.id)
    return SignedIn(who, secret)


def login_options(rt: Runtime) -> Started:
    """Request options for a discoverable credential: the browser offers the operator's
    passkeys for this host."""
    challenge_id, challenge = _issue(rt, LOGIN)
    options = request_options(relying_party(rt), challenge)
    return Started(challenge_id, options)


def login_finish(rt: Runtime, challenge_id: str, credential: Any, meta: RequestMeta) -> SignedIn:
    challenge = _consume(rt, challenge_id, LOGIN)
    try:
        return _verify_login(rt, challenge, credential, meta)
    except LatchkeyError as exc:
        # Never the credential or anything secret: the step that failed.
        log.info("portal sign-in failed: %s", exc.code)
        raise


def _verify_login(rt: Runtime, challenge: Any, credential: Any, meta: RequestMeta) -> SignedIn:
    identity = read_assertion_identity(credential)
    with rt.read() as conn:
        stored = store.passkey_by_credential_id(conn, identity.credential_id)
        owner = store.operator(conn, stored.operator_id) if stored is not None else None
    if stored is None or owner is None or owner.disabled_at is not None:
        raise OperatorSignInFailed("this passkey is not an operator's passkey of this portal")
    verified = verify_authentication_response(
        credential=credential,
        expected_challenge=challenge.challenge,
        rp_id=accounts.portal_rp_id(rt),
        origins=[accounts.portal_origin(rt)],
        public_key=stored.public_key,
        stored_sign_count=stored.sign_count,
        owner_user_handle=owner.user_handle,
        require_user_verification=True,
        require_user_handle=True,
        stored_backup_eligible=stored.backup_eligible,
    )
    with rt.transaction() as conn:
        if not store.record_passkey_use(
            conn,
            stored.id,
            stored.sign_count,
            verified.new_sign_count,
            verified.backup_state,
            rt.now(),
        ):
            raise OperatorSignInFailed("another sign-in used this passkey meanwhile: try again")
        secret = sessions.start(conn, rt, owner.id, meta)
    return SignedIn(OperatorAccount.of(owner), secret)
