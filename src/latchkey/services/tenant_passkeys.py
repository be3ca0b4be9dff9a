"""A tenant's passkeys as the ceremonies' keyring (services/ceremony.py): its users'
credentials, the users a first passkey creates, its event log and its authenticator rules;
and the tenant's ceremony openings (a sign-in for a user named by the app or for any
discoverable passkey; a new passkey for an app user)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from latchkey.errors import (
    CredentialAlreadyRegistered,
    CredentialNotFound,
    IdentifierTaken,
    InvalidRequest,
    LatchkeyError,
    UserChanged,
    UserDisabled,
    UserNotFound,
)
from latchkey.event_kinds import PASSKEY_AUTHENTICATION, PASSKEY_REGISTRATION
from latchkey.ids import new_id, new_user_handle
from latchkey.models import Challenge, Credential, Tenant, User
from latchkey.runtime import RequestMeta, Runtime
from latchkey.runtime.cache import TTLCache
from latchkey.services import ceremony, challenges, directories, events, metadata
from latchkey.services.passkey_options import PasskeyUser
from latchkey.store import credentials as credential_store
from latchkey.store import identifiers as identifier_store
from latchkey.store import users as user_store
from latchkey.webauthn.aaguids import default_credential_name
from latchkey.webauthn.authentication_verification import VerifiedAuthentication
from latchkey.webauthn.encoding import b64url_decode
from latchkey.webauthn.errors import SignCountRegression
from latchkey.webauthn.registration_verification import VerifiedRegistration

# A tenant's ceremony results, with what the surface's `then` wrote beside them.
SignIn = ceremony.Authenticated[User, Credential, Any]
Registration = ceremony.Registered[User, Credential, Any]


# Passkeys read for sign-in, per (tenant id, credential id): what verification needs of them
# (the public key, the holder's id and handle) never changes; the rest is rechecked at the write.
PASSKEY_CACHE = "tenant passkeys"
PASSKEY_CACHE_SECONDS = 300.0
PASSKEY_CACHE_ENTRIES = 20_000


def _passkeys(rt: Runtime) -> TTLCache[tuple[str, bytes], tuple[Credential, User]]:
    return rt.cache(PASSKEY_CACHE, PASSKEY_CACHE_SECONDS, PASSKEY_CACHE_ENTRIES)


def _used(passkey: Credential, count: int, backup_state: bool, at: datetime) -> Credential:
    """The passkey as its use stored it: dataclasses.replace without its cost (it reads the
    fields' definitions each call: 14 µs against 2 on this path, once per sign-in). Credential
    is a plain frozen dataclass (no __post_init__, no slots: tests/test_passkey_cache.py)."""
    used = object.__new__(Credential)
    used.__dict__.update(
        passkey.__dict__, sign_count=count, backup_state=backup_state, last_used_at=at
    )
    return used


@dataclass(frozen=True)
class TenantKeyring:
    tenant: Tenant

    @property
    def scope(self) -> str:
        return self.tenant.id

    def find(self, rt: Runtime, credential_id: bytes) -> tuple[Credential, User]:
        """From the runtime's passkey cache, else one indexed statement without a transaction
        around it (Runtime.first). A cached passkey is only a claim: what may have changed
        since (the passkey deleted, its count moved, its holder disabled or renamed) is
        decided by `record_use` in the sign-in's write."""
        # Only this tenant's credentials are candidates: another tenant's id is simply unknown.
        key = (self.tenant.id, credential_id)

        def read() -> tuple[Credential, User]:
            query = credential_store.with_owner_query(self.tenant.id, credential_id)
            found = credential_store.with_owner_row(rt.first(*query))
            if found is None:
                raise CredentialNotFound("this passkey is not registered here")
            return found

        cache = _passkeys(rt)
        found = cache.get(key, read)
        if found[1].disabled_at is not None:
            cache.forget(key)  # read again next time: the holder may be enabled again
        return found

    def check_holder(self, holder: User) -> None:
        if holder.disabled_at is not None:
            raise UserDisabled("this user is disabled")

    def check_verified(self, rt: Runtime, passkey: Credential) -> None:
        metadata.check_sign_in(rt, self.tenant, passkey)

    def record_use(
        self,
        conn: Connection,
        rt: Runtime,
        found: tuple[Credential, User],
        verified: VerifiedAuthentication,
        now: datetime,
    ) -> tuple[Credential, User]:
        passkey, holder = found
        row_id, count, backup = passkey.id, verified.new_sign_count, verified.backup_state
        # The holder as stored now (renamed, disabled since the passkey was read or cached):
        # on PostgreSQL returned by the use's own UPDATE, on SQLite read after it.
        current: User | None = None
        if conn.dialect.name == "postgresql":
            current = credential_store.record_use_with_holder(
                conn, credential_row_id=row_id, new_count=count, backup_state=backup, used_at=now
            )
            moved = current is not None
        else:
            moved = credential_store.record_use(
                conn, credential_row_id=row_id, new_count=count, backup_state=backup, used_at=now
            )
        if not moved:
            _passkeys(rt).forget((self.tenant.id, passkey.credential_id))
            if not credential_store.is_stored(conn, passkey.id):
                raise CredentialNotFound("this passkey is not registered here")
            raise SignCountRegression("the sign count did not rise above the stored one")
        if current is None:
            current = user_store.current(conn, self.tenant.id, holder.id)
        if current is None:
            raise CredentialNotFound("this passkey is not registered here")
        self.check_holder(current)
        return _used(passkey, count, backup, now), current

    def flag_possible_clone(self, conn: Connection, passkey: Credential) -> None:
        credential_store.mark_possible_clone(conn, passkey.id)

    def log_sign_in(
        self,
        conn: Connection,
        rt: Runtime,
        meta: RequestMeta,
        *,
        holder: User | None,
        passkey: Credential | None,
        challenge: Challenge | None,
        verified: VerifiedAuthentication | None = None,
        error: LatchkeyError | None = None,
    ) -> None:
        detail: dict[str, Any] | None
        if verified is not None:
            detail = {"user_verified": verified.user_verified}
        else:
            # A pool's sign-in names its pool in the challenge: its failures count in the
            # pool's funnel.
            pool_id = challenge.context.get("directory_id") if challenge is not None else None
            detail = {"pool_id": pool_id} if isinstance(pool_id, str) else None
        events.record(
            conn,
            rt,
            tenant_id=self.tenant.id,
            kind=PASSKEY_AUTHENTICATION,
            meta=meta,
            reason=error.code if error is not None else None,
            user_id=holder.id if holder else None,
            credential_id=passkey.id if passkey else None,
            detail=detail,
        )

    def add(
        self, conn: Connection, rt: Runtime, challenge: Challenge, verified: VerifiedRegistration
    ) -> tuple[User, Credential]:
        user = _user_for(conn, rt, self.tenant, challenge)
        # §7.1 step 26: a credential id already known is refused (the unique index is the guard).
        if credential_store.exists(conn, self.tenant.id, verified.credential_id):
            raise CredentialAlreadyRegistered("this passkey is already registered")
        credential = Credential(
            id=new_id(),
            tenant_id=self.tenant.id,
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
            created_at=rt.now(),
            last_used_at=None,
        )
        try:
            with conn.begin_nested():
                credential_store.add(conn, credential)
        except IntegrityError as exc:
            raise CredentialAlreadyRegistered("this passkey is already registered") from exc
        return user, credential

    def log_registration(
        self,
        conn: Connection,
        rt: Runtime,
        meta: RequestMeta,
        *,
        holder: User,
        passkey: Credential,
        verified: VerifiedRegistration,
        conditional: bool,
    ) -> None:
        events.record(
            conn,
            rt,
            tenant_id=self.tenant.id,
            kind=PASSKEY_REGISTRATION,
            meta=meta,
            user_id=holder.id,
            credential_id=passkey.id,
            detail={
                "aaguid": verified.aaguid,
                "fmt": verified.fmt,
                "conditional": conditional,
                "attestation": verified.attestation_trust,
                "model": verified.model,
            },
        )

    def log_registration_failure(
        self, rt: Runtime, meta: RequestMeta, error: LatchkeyError, user_id: str | None
    ) -> None:
        events.record_failure(
            rt,
            tenant_id=self.tenant.id,
            kind=PASSKEY_REGISTRATION,
            meta=meta,
            reason=error.code,
            user_id=user_id,
        )


def sign_in_options(
    rt: Runtime,
    tenant: Tenant,
    *,
    external_user_id: str | None = None,
    context: dict[str, Any] | None = None,
) -> ceremony.Options:
    """A tenant's sign-in options, for the user with this external id (their passkeys in
    allowCredentials) or, without one, for any discoverable passkey."""
    if external_user_id is not None and not 0 < len(external_user_id) <= 255:
        raise InvalidRequest("userId must be 1 to 255 characters")
    allow: list[Credential] = []
    user_id = None
    if external_user_id is not None:
        with rt.read() as conn:
            user = user_store.by_external_id(conn, tenant.id, external_user_id)
            if user is None:
                raise UserNotFound("this user has no passkey")
            allow = credential_store.for_user(conn, tenant.id, user.id)
        if not allow:
            raise UserNotFound("this user has no passkey")
        user_id = user.id
    return ceremony.begin_sign_in(
        rt,
        tenant.relying_party,
        TenantKeyring(tenant),
        allow=allow,
        user_id=user_id,
        context=context,
    )


def _text(label: str, value: str | None, *, required: bool) -> str | None:
    if value is None or value == "":
        if required:
            raise InvalidRequest(f"{label} is required")
        return None
    if len(value) > 255:
        raise InvalidRequest(f"{label} is longer than 255 characters")
    return value


def registration_options(
    rt: Runtime,
    tenant: Tenant,
    *,
    external_user_id: str,
    username: str | None = None,
    display_name: str | None = None,
    attachment: str | None = None,
    hints: tuple[str, ...] = (),
) -> ceremony.Options:
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
    return ceremony.registration_options(
        tenant.relying_party,
        challenge,
        entity,
        exclude=existing,
        attachment=attachment,
        hints=hints,
    )


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
