"""Passkey registration: begin (options + stored challenge) and finish (verify + store)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from latchkey.errors import (
    CredentialAlreadyRegistered,
    IdentifierTaken,
    InvalidRequest,
    LatchkeyError,
    UserChanged,
    UserDisabled,
)
from latchkey.event_kinds import PASSKEY_REGISTRATION
from latchkey.ids import new_id, new_user_handle
from latchkey.models import Challenge, Credential, Tenant, User
from latchkey.runtime import RequestMeta, Runtime
from latchkey.services import app_origins, challenges, directories, events, metadata
from latchkey.services.passkey_options import PasskeyUser, creation_options
from latchkey.store import credentials as credential_store
from latchkey.store import identifiers as identifier_store
from latchkey.store import users as user_store
from latchkey.webauthn.aaguids import default_credential_name
from latchkey.webauthn.attestation_policy import AttestationRules
from latchkey.webauthn.encoding import b64url_decode
from latchkey.webauthn.registration_verification import (
    VerifiedRegistration,
    verify_registration_response,
)


@dataclass(frozen=True)
class RegistrationOptions:
    challenge_id: str
    options: dict[str, Any]


@dataclass(frozen=True)
class Registered:
    user: User
    credential: Credential


def _text(label: str, value: str | None, *, required: bool) -> str | None:
    if value is None or value == "":
        if required:
            raise InvalidRequest(f"{label} is required")
        return None
    if len(value) > 255:
        raise InvalidRequest(f"{label} is longer than 255 characters")
    return value


def begin(
    rt: Runtime,
    tenant: Tenant,
    *,
    external_user_id: str,
    username: str | None = None,
    display_name: str | None = None,
    attachment: str | None = None,
    hints: tuple[str, ...] = (),
) -> RegistrationOptions:
    """Options for a new passkey for this app user. The user row is only written at finish."""
    _text("userId", external_user_id, required=True)
    username = _text("username", username, required=False)
    display_name = _text("displayName", display_name, required=False)
    if attachment not in (None, "platform", "cross-platform"):
        raise InvalidRequest("authenticatorAttachment must be platform or cross-platform")
    with rt.transaction() as conn:
        user = user_store.by_external_id(conn, tenant.id, external_user_id)
        existing = credential_store.for_user(conn, tenant.id, user.id) if user else []
        entity = PasskeyUser.named(
            user.user_handle if user else new_user_handle(),
            fallback=external_user_id,
            name=username or (user.username if user else None),
            display_name=display_name or (user.display_name if user else None),
        )
        challenge = challenges.issue(
            conn,
            rt,
            tenant=tenant,
            kind=challenges.REGISTRATION,
            user_id=user.id if user else None,
            context={"external_user_id": external_user_id, **entity.context()},
        )
    options = creation_options(
        tenant.relying_party,
        entity,
        challenge.challenge,
        exclude=existing,
        attachment=attachment,
        hints=hints,
    )
    return RegistrationOptions(challenge.id, options)


def finish(
    rt: Runtime,
    tenant: Tenant,
    *,
    challenge_id: str,
    credential: Mapping[str, Any],
    meta: RequestMeta,
    conditional: bool = False,
    native: bool = False,
    check: Callable[[Connection, Challenge], None] | None = None,
    after: Callable[[Connection, Registered], None] | None = None,
) -> Registered:
    """Verify the create() response and store the passkey, all or nothing.

    `check` runs in the storing transaction before anything is written (a binding rule);
    `after` runs in it once the passkey is stored (a surface's own records). `native`: begun by
    an app, so the origins its platform reports are accepted (services/app_origins.py)."""
    user_id: str | None = None
    try:
        challenge = challenges.consume(
            rt, tenant=tenant, challenge_id=challenge_id, kind=challenges.REGISTRATION
        )
        user_id = challenge.user_id
        verified = verify_registration_response(
            credential=credential,
            expected_challenge=challenge.challenge,
            rp_id=tenant.rp_id,
            origins=app_origins.expected(rt, tenant, native=native),
            allowed_algorithms=tenant.policy.algorithm_ids,
            require_user_verification=tenant.policy.require_user_verification,
            # A conditional create (automatic passkey upgrade) may be made without a gesture.
            require_user_presence=not conditional,
            allow_synced=tenant.policy.allow_synced,
            trust_anchors=rt.trust_anchors,
            rules=AttestationRules(tenant.policy, metadata.current(rt)),
        )
        with rt.transaction() as conn:
            if check is not None:
                check(conn, challenge)
            result = _store(conn, rt, tenant, challenge, verified)
            if after is not None:
                after(conn, result)
            events.record(
                conn,
                rt,
                tenant_id=tenant.id,
                kind=PASSKEY_REGISTRATION,
                meta=meta,
                user_id=result.user.id,
                credential_id=result.credential.id,
                detail={
                    "aaguid": verified.aaguid,
                    "fmt": verified.fmt,
                    "conditional": conditional,
                    "attestation": verified.attestation_trust,
                    "model": verified.model,
                },
            )
        return result
    except LatchkeyError as error:
        events.record_failure(
            rt,
            tenant_id=tenant.id,
            kind=PASSKEY_REGISTRATION,
            meta=meta,
            reason=error.code,
            user_id=user_id,
        )
        raise


def _store(
    conn: Connection,
    rt: Runtime,
    tenant: Tenant,
    challenge: Challenge,
    verified: VerifiedRegistration,
) -> Registered:
    user = _user_for(conn, rt, tenant, challenge)
    # §7.1 step 26: a credential id already known is refused (the unique index is the guard).
    if credential_store.exists(conn, tenant.id, verified.credential_id):
        raise CredentialAlreadyRegistered("this passkey is already registered")
    now = rt.now()
    credential = Credential(
        id=new_id(),
        tenant_id=tenant.id,
        user_id=user.id,
        credential_id=verified.credential_id,
        public_key=verified.public_key,
        alg=verified.alg,
        sign_count=verified.sign_count,
        aaguid=verified.aaguid,
        fmt=verified.fmt,
        transports=verified.transports,
        backup_eligible=verified.backup_eligible,
        backup_state=verified.backup_state,
        user_verified=verified.user_verified,
        discoverable=verified.discoverable,
        attachment=verified.attachment,
        name=default_credential_name(
            verified.aaguid, attachment=verified.attachment, model=verified.model
        ),
        possible_clone=False,
        created_at=now,
        last_used_at=None,
    )
    try:
        with conn.begin_nested():
            credential_store.add(conn, credential)
    except IntegrityError as exc:
        raise CredentialAlreadyRegistered("this passkey is already registered") from exc
    return Registered(user, credential)


def _claim_identifiers(conn: Connection, user: User, claimed: Mapping[str, str]) -> None:
    """A directory sign-up's identifiers, unique in the directory: a second sign-up racing for
    the same e-mail loses here, with nothing written."""
    for kind, value in claimed.items():
        try:
            with conn.begin_nested():
                identifier_store.add(
                    conn, directory_id=user.directory_id, kind=kind, value=value, user_id=user.id
                )
        except IntegrityError as exc:
            raise IdentifierTaken(
                f"a user with this {kind} already exists; sign in instead"
            ) from exc


def _user_for(conn: Connection, rt: Runtime, tenant: Tenant, challenge: Challenge) -> User:
    """The user the challenge was issued for, created now if this is their first passkey."""
    context = challenge.context
    handle = b64url_decode(context["user_handle"])
    user = user_store.by_external_id(conn, tenant.id, context["external_user_id"])
    if user is not None:
        if user.disabled_at is not None:
            raise UserDisabled("this user is disabled")
        # The authenticator stored the handle from the options: it must be this user's.
        if user.user_handle != handle or (challenge.user_id not in (None, user.id)):
            raise UserChanged("the user changed while this passkey was being made; start again")
        return user
    if challenge.user_id is not None:
        raise UserChanged("the user was deleted while this passkey was being made")
    now = rt.now()
    claimed: Mapping[str, str] = context.get("identifiers") or {}
    user = User(
        id=new_id(),
        tenant_id=tenant.id,
        external_id=context["external_user_id"],
        user_handle=handle,
        username=context["username"],
        display_name=context["display_name"],
        created_at=now,
        updated_at=now,
        directory_id=context.get("directory_id") or directories.default_id(conn, tenant.id),
        profile=context.get("profile") or {},
        email=claimed.get("email"),
        phone_number=claimed.get("phone_number"),
    )
    try:
        with conn.begin_nested():
            user_store.add(conn, user)
    except IntegrityError as exc:
        raise UserChanged("the user was created by another ceremony; start again") from exc
    _claim_identifiers(conn, user, claimed)
    return user
