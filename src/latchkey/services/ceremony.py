"""The WebAuthn ceremonies, once, for every relying party: registration and sign-in, begin and
finish. Used by the /v1 client API, the ceremony API, native apps, identity pools and the
operator portal.

Each call takes the relying party (webauthn/relying_party.py: RP ID, name, origins, policy),
which says what the options ask for and what verification insists on, and its keyring, which
says whose passkeys these are and where they and their use are written: a tenant's users
(services/tenant_passkeys.py) or the portal's operators (services/operators/ceremonies.py).
Every relying party gets the same steps, the same sign-count rule (§7.2 step 22: the count must
rise, unless both are zero; rechecked by the database, store/passkey_uses.py) and the same clone
flag when it does not.

`finish` returns its result. A surface's own records (a result token, an SSO session, a portal
session) are written by its `then` step, in the ceremony's transaction, and come back as the
result's `records`; a `then` that raises refuses the ceremony and nothing of it is stored.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any, Generic, Protocol, TypeVar, cast

from sqlalchemy import Connection

from latchkey.errors import CredentialNotFound, LatchkeyError, ServiceUnavailable
from latchkey.models import Challenge
from latchkey.runtime import RequestMeta, Runtime, group_commit
from latchkey.runtime.group_commit import Expected
from latchkey.services import challenges, metadata, sealed_challenges
from latchkey.services.passkey_options import (
    PasskeyUser,
    StoredPasskey,
    creation_options,
    request_options,
)
from latchkey.webauthn.attestation_policy import AttestationRules
from latchkey.webauthn.authentication_verification import (
    AssertionIdentity,
    VerifiedAuthentication,
    read_assertion_identity,
    verify_authentication_response,
)
from latchkey.webauthn.errors import CredentialMismatch, SignCountRegression
from latchkey.webauthn.registration_verification import (
    VerifiedRegistration,
    verify_registration_response,
)
from latchkey.webauthn.relying_party import RelyingParty


class Holder(Protocol):
    """Who holds a passkey: a tenant's user, an operator."""

    @property
    def id(self) -> str: ...

    @property
    def user_handle(self) -> bytes: ...


class Passkey(Protocol):
    """What sign-in verification reads of a stored passkey."""

    @property
    def id(self) -> str: ...

    @property
    def public_key(self) -> bytes: ...

    @property
    def sign_count(self) -> int: ...

    @property
    def backup_eligible(self) -> bool: ...


H = TypeVar("H", bound=Holder)
P = TypeVar("P", bound=Passkey)
T = TypeVar("T")


class Keyring(Protocol[H, P]):
    """A relying party's passkeys, their holders and the log of what happened to them."""

    @property
    def scope(self) -> str:
        """What its challenges are bound to: no other keyring's challenge opens here."""
        ...

    def find(self, rt: Runtime, credential_id: bytes) -> tuple[P, H]:
        """The passkey with this id and its holder, read outside any transaction; raise when it
        is not this keyring's."""
        ...

    def check_holder(self, holder: H) -> None:
        """Raise when the holder may not sign in (disabled)."""
        ...

    def check_verified(self, rt: Runtime, passkey: P) -> None:
        """Raise when a verified passkey may still not sign in (a blocked model): only its
        holder, who just proved possession, learns that."""
        ...

    def record_use(
        self,
        conn: Connection,
        rt: Runtime,
        found: tuple[P, H],
        verified: VerifiedAuthentication,
        now: datetime,
    ) -> tuple[P, H]:
        """Store the verified use under the sign-count rule, checked against the count as
        stored (store/passkey_uses.py); the passkey and its holder as now stored. Raise when
        the use may not be stored: SignCountRegression when the count did not rise (another
        use got there first, or a clone), or the keyring's refusal when the passkey is gone or
        its holder may no longer sign in (`find` may have answered from a cache)."""
        ...

    def flag_possible_clone(self, conn: Connection, passkey: P) -> None: ...

    def log_sign_in(
        self,
        conn: Connection,
        rt: Runtime,
        meta: RequestMeta,
        *,
        holder: H | None,
        passkey: P | None,
        challenge: Challenge | None,
        verified: VerifiedAuthentication | None = None,
        error: LatchkeyError | None = None,
    ) -> None:
        """A sign-in (`verified`) or its failure (`error`), in the outcome's transaction; the
        challenge, when it opened, says what the sign-in was for."""
        ...

    def add(
        self, conn: Connection, rt: Runtime, challenge: Challenge, verified: VerifiedRegistration
    ) -> tuple[H, P]:
        """Store the verified new passkey (and its holder, when new); raise to refuse it."""
        ...

    def log_registration(
        self,
        conn: Connection,
        rt: Runtime,
        meta: RequestMeta,
        *,
        holder: H,
        passkey: P,
        verified: VerifiedRegistration,
        conditional: bool,
    ) -> None: ...

    def log_registration_failure(
        self, rt: Runtime, meta: RequestMeta, error: LatchkeyError, user_id: str | None
    ) -> None:
        """A refused registration, in a transaction of its own (its writes stay undone)."""
        ...


@dataclass(frozen=True, slots=True)
class Options:
    """A ceremony's challenge id and its options for the browser."""

    challenge_id: str
    options: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Authenticated(Generic[H, P, T]):
    """A recorded sign-in: who, with which passkey (as now stored), whether the user was
    verified, and what the surface's `then` wrote beside it."""

    user: H
    credential: P
    user_verified: bool
    records: T


@dataclass(frozen=True)
class Registered(Generic[H, P, T]):
    """A stored new passkey, its holder, and what the surface's `then` wrote beside it."""

    user: H
    credential: P
    records: T


# A surface's own records, written in the ceremony's transaction once everything verified;
# what it returns comes back as `records`. Raising refuses the ceremony.
ThenSignedIn = Callable[[Connection, Challenge, Authenticated[H, P, None]], T]
ThenRegistered = Callable[[Connection, Challenge, Registered[H, P, None]], T]
# A binding rule checked in the storing transaction before anything is written.
Check = Callable[[Connection, Challenge], None]


def registration_options(
    rp: RelyingParty,
    challenge: Challenge,
    user: PasskeyUser,
    *,
    exclude: Sequence[StoredPasskey] = (),
    attachment: str | None = None,
    hints: Sequence[str] = (),
) -> Options:
    """Creation options for an issued registration challenge."""
    made = creation_options(
        rp, user, challenge.challenge, exclude=exclude, attachment=attachment, hints=hints
    )
    return Options(challenge.id, made)


def finish_registration(
    rt: Runtime,
    rp: RelyingParty,
    keyring: Keyring[H, P],
    *,
    challenge_id: str,
    credential: Mapping[str, Any],
    meta: RequestMeta,
    conditional: bool = False,
    check: Check | None = None,
    then: ThenRegistered[H, P, T] | None = None,
) -> Registered[H, P, T]:
    """Verify the create() response and store the passkey, all or nothing. The challenge is
    used up first, in its own transaction: a failed verification does not give it back.
    `conditional`: an automatic passkey upgrade, which may be made without a gesture."""
    user_id: str | None = None
    try:
        challenge = challenges.consume(
            rt, scope=keyring.scope, challenge_id=challenge_id, kind=challenges.REGISTRATION
        )
        user_id = challenge.user_id
        verified = verify_registration_response(
            credential=credential,
            expected_challenge=challenge.challenge,
            rp_id=rp.id,
            origins=rp.origins,
            allowed_algorithms=rp.policy.algorithm_ids,
            require_user_verification=rp.policy.require_user_verification,
            require_user_presence=not conditional,
            allow_synced=rp.policy.allow_synced,
            trust_anchors=rt.trust_anchors,
            rules=AttestationRules(rp.policy, metadata.current(rt)),
        )
        with rt.transaction() as conn:
            if check is not None:
                check(conn, challenge)
            holder, passkey = keyring.add(conn, rt, challenge, verified)
            stored: Registered[H, P, None] = Registered(holder, passkey, None)
            records = then(conn, challenge, stored) if then is not None else None
            keyring.log_registration(
                conn,
                rt,
                meta,
                holder=holder,
                passkey=passkey,
                verified=verified,
                conditional=conditional,
            )
        return Registered(holder, passkey, cast(T, records))
    except LatchkeyError as error:
        keyring.log_registration_failure(rt, meta, error, user_id)
        raise


def begin_sign_in(
    rt: Runtime,
    rp: RelyingParty,
    keyring: Keyring[H, P],
    *,
    allow: Sequence[StoredPasskey] = (),
    user_id: str | None = None,
    context: dict[str, Any] | None = None,
) -> Options:
    """Options for a sign-in: `allow` the passkeys of the user identified first (`user_id`),
    or none, so the browser offers discoverable passkeys (button or autofill). Nothing is
    written: the challenge is sealed into its id (services/sealed_challenges.py)."""
    challenge_id, challenge = sealed_challenges.issue_id(
        rt,
        scope=keyring.scope,
        timeout_ms=rp.policy.timeout_ms,
        kind=challenges.AUTHENTICATION,
        user_id=user_id,
        context=context or {},
    )
    return Options(challenge_id, request_options(rp, challenge, allow=allow))


@dataclass(frozen=True, slots=True)
class _Checked(Generic[H, P]):
    """What verify learnt before writing: the opened challenge, the passkey and its holder,
    the verified assertion, or the failure that stopped it."""

    challenge: Challenge | None = None
    found: tuple[P, H] | None = None
    verified: VerifiedAuthentication | None = None
    failure: LatchkeyError | None = None


def finish_sign_in(
    rt: Runtime,
    rp: RelyingParty,
    keyring: Keyring[H, P],
    *,
    challenge_id: str,
    credential: Mapping[str, Any],
    meta: RequestMeta,
    then: ThenSignedIn[H, P, T] | None = None,
) -> Authenticated[H, P, T]:
    """Verify the get() response against the stored passkey, then record the outcome in one
    transaction committed by the group writer: the challenge is used up whatever the outcome,
    and the use is recorded, with `then`'s records, only when everything verified. The answer
    comes after the commit."""
    future = start_sign_in(
        rt, rp, keyring, challenge_id=challenge_id, credential=credential, meta=meta, then=then
    )
    return signed_in(future.result())


def start_sign_in(
    rt: Runtime,
    rp: RelyingParty,
    keyring: Keyring[H, P],
    *,
    challenge_id: str,
    credential: Mapping[str, Any],
    meta: RequestMeta,
    then: ThenSignedIn[H, P, T] | None = None,
    expected: Expected | None = None,
) -> Future[Any]:
    """`finish_sign_in` up to the queued write: its future gives `signed_in` what to answer.
    Callers on an event loop await the future instead of blocking on it."""
    queue = partial(_checked_and_queued, rt, rp, keyring, challenge_id, credential, meta, then)
    if expected is not None:
        return queue(expected)
    with rt.writer.expect() as expecting:
        return queue(expecting)


def _checked_and_queued(
    rt: Runtime,
    rp: RelyingParty,
    keyring: Keyring[H, P],
    challenge_id: str,
    credential: Mapping[str, Any],
    meta: RequestMeta,
    then: ThenSignedIn[H, P, T] | None,
    expected: Expected,
) -> Future[Any]:
    checked = _check(rt, rp, keyring, challenge_id, credential)
    job = partial(_record, rt=rt, keyring=keyring, checked=checked, meta=meta, then=then)
    return rt.submit(job, expected)


def signed_in(outcome: Any) -> Authenticated[Any, Any, Any]:
    """The committed outcome of a sign-in: the sign-in, or its failure raised."""
    if isinstance(outcome, LatchkeyError):
        raise outcome
    return cast("Authenticated[Any, Any, Any]", outcome)


def _check(
    rt: Runtime,
    rp: RelyingParty,
    keyring: Keyring[H, P],
    challenge_id: str,
    credential: Mapping[str, Any],
) -> _Checked[H, P]:
    challenge = None
    found = None
    try:
        challenge = challenges.open_for(
            rt, scope=keyring.scope, challenge_id=challenge_id, kind=challenges.AUTHENTICATION
        )
        identity = read_assertion_identity(credential)
        found = keyring.find(rt, identity.credential_id)
        # §7.2 step 6: when the user was identified first, the passkey must be theirs.
        if challenge.user_id is not None and found[1].id != challenge.user_id:
            raise CredentialMismatch("this passkey belongs to another user")
        verified = _verify(rt, rp, keyring, challenge, credential, found, identity)
        return _Checked(challenge, found, verified)
    except ServiceUnavailable:
        raise  # the database is away: nothing is known, nothing is recorded
    except LatchkeyError as error:
        return _Checked(challenge, found, failure=error)


def _verify(
    rt: Runtime,
    rp: RelyingParty,
    keyring: Keyring[H, P],
    challenge: Challenge,
    credential: Mapping[str, Any],
    found: tuple[P, H],
    identity: AssertionIdentity,
) -> VerifiedAuthentication:
    stored, holder = found
    keyring.check_holder(holder)
    verified = verify_authentication_response(
        credential=credential,
        expected_challenge=challenge.challenge,
        rp_id=rp.id,
        origins=rp.origins,
        public_key=stored.public_key,
        stored_sign_count=stored.sign_count,
        owner_user_handle=holder.user_handle,
        require_user_verification=rp.policy.require_user_verification,
        # Discoverable sign-in: the user handle is the response's only claim of who it is.
        require_user_handle=challenge.user_id is None,
        stored_backup_eligible=stored.backup_eligible,
        identity=identity,
    )
    keyring.check_verified(rt, stored)
    return verified


def _record(
    conn: Connection,
    *,
    rt: Runtime,
    keyring: Keyring[H, P],
    checked: _Checked[H, P],
    meta: RequestMeta,
    then: ThenSignedIn[H, P, T] | None,
) -> Authenticated[H, P, T] | LatchkeyError:
    """The writer's job: consume the challenge, then record the use or the failure. A failure
    is returned, not raised, so that the consumed challenge and the failure event commit."""
    stored, holder = checked.found or (None, None)
    try:
        if checked.challenge is not None:
            challenges.use(conn, rt, challenge=checked.challenge)
        if checked.failure is not None:
            raise checked.failure
        assert checked.challenge is not None
        assert checked.found is not None
        assert checked.verified is not None
        # A failure below undoes the use but not the consumed challenge.
        with group_commit.undoable(conn):
            return _record_use(
                conn, rt, keyring, checked.challenge, checked.found, checked.verified, meta, then
            )
    except LatchkeyError as error:
        if isinstance(error, SignCountRegression) and stored is not None:
            keyring.flag_possible_clone(conn, stored)
        if isinstance(error, CredentialNotFound):
            stored = holder = None  # gone since it was found: the event cannot point at it
        keyring.log_sign_in(
            conn, rt, meta, holder=holder, passkey=stored, challenge=checked.challenge, error=error
        )
        return error


def _record_use(
    conn: Connection,
    rt: Runtime,
    keyring: Keyring[H, P],
    challenge: Challenge,
    found: tuple[P, H],
    verified: VerifiedAuthentication,
    meta: RequestMeta,
    then: ThenSignedIn[H, P, T] | None,
) -> Authenticated[H, P, T]:
    used, holder = keyring.record_use(conn, rt, found, verified, rt.now())
    keyring.log_sign_in(
        conn, rt, meta, holder=holder, passkey=used, challenge=challenge, verified=verified
    )
    result: Authenticated[H, P, None] = Authenticated(holder, used, verified.user_verified, None)
    records = then(conn, challenge, result) if then is not None else None
    return Authenticated(holder, used, verified.user_verified, cast(T, records))
