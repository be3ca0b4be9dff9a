"""Identity-pool passkey ceremonies, each step of a stored flow (see services/pools/flows.py).

Sign-up: begin checks the pool's rules (self-registration, bot check, free identifiers) and
parks the registration challenge in the flow; finish stores user, identifiers and passkey and
completes the flow in one transaction. Sign-in: options park an authentication challenge in
the flow; finish verifies it (services/ceremony.py), completes the flow and opens the
SSO session, again in one transaction. Adding a passkey to a known user (account page,
recovery) is a registration flow that carries the user.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from latchkey import i18n
from latchkey.errors import CredentialNotFound, Forbidden, InvalidRequest, UserNotFound
from latchkey.event_kinds import POOL_PASSKEY_ADDED, POOL_SIGNED_IN, POOL_SIGNED_UP
from latchkey.models import Challenge, Credential, Flow, Tenant, User
from latchkey.runtime import RequestMeta, Runtime
from latchkey.services import (
    amr,
    app_origins,
    ceremony,
    challenges,
    events,
    sign_in_journey,
    signup,
    tenant_passkeys,
)
from latchkey.services.passkey_options import PasskeyUser, creation_options, request_options
from latchkey.services.pools import (
    Pool,
    account_recovery,
    botcheck,
    email_verification,
    flow_refs,
    flows,
    identifier_lookup,
    sso,
)
from latchkey.services.pools.flow_refs import FlowRef
from latchkey.store import credentials as credential_store
from latchkey.store import users as user_store
from latchkey.webauthn.relying_party import RelyingParty


class SelfRegistrationDisabled(Forbidden):
    code = "self_registration_disabled"


class PasskeyLimitReached(Forbidden):
    code = "passkey_limit_reached"


@dataclass(frozen=True)
class Options:
    flow: Flow
    # A new cookie when this step started the flow; None when it continued the browser's one.
    cookie: str | None
    public_key: dict[str, Any]


@dataclass(frozen=True)
class SignedIn:
    flow: Flow
    user: User
    credential: Credential | None
    # None when a signed-in user only added a passkey: their session goes on as it was.
    session: sso.Opened | None
    signup: bool
    # A sign-up's e-mail verification flow (its cookie replaces the spent flow's).
    verification: flows.Started | None = None


def _rp(tenant: Tenant, pool: Pool) -> RelyingParty:
    """The tenant's relying party under the pool's name (what the browser shows)."""
    return tenant.relying_party.named(pool.name)


def register_begin(
    rt: Runtime,
    tenant: Tenant,
    pool: Pool,
    *,
    identifier: str | None,
    profile: Mapping[str, Any] | None,
    bot_solution: str | None,
    ref: FlowRef | None,
) -> Options:
    """A sign-up, or, in a flow that carries a user (recovery, account page), another passkey
    for that user."""
    if ref is not None and ref.flow_id is not None:
        with rt.read() as conn:
            flow = flow_refs.load_flow(conn, rt, tenant, pool, flows.REGISTRATION, ref)
            user = user_store.get(conn, tenant.id, flow.user_id) if flow.user_id else None
        if flow.user_id is not None:
            if user is None:
                raise UserNotFound("this account no longer exists")
            return add_passkey_begin(rt, tenant, pool, user=user, ref=ref)
    return signup_begin(
        rt,
        tenant,
        pool,
        identifier=identifier,
        profile=profile,
        bot_solution=bot_solution,
        ref=ref,
    )


def signup_begin(
    rt: Runtime,
    tenant: Tenant,
    pool: Pool,
    *,
    identifier: str | None,
    profile: Mapping[str, Any] | None,
    bot_solution: str | None,
    ref: FlowRef | None,
) -> Options:
    if not pool.settings.self_registration:
        raise SelfRegistrationDisabled("this pool does not accept sign-ups")
    claimed, fields = signup.split_profile(
        pool.directory, identifier_lookup.given_profile(pool, identifier, profile)
    )
    if not claimed:
        raise InvalidRequest("identifier is required")
    with rt.transaction() as conn:
        flow, cookie = flow_refs.flow_for(conn, rt, tenant, pool, flows.REGISTRATION, ref)
        if flow.user_id is not None:
            raise InvalidRequest("this flow adds a passkey to a signed-in user, not a sign-up")
        if pool.settings.bot_check:
            # Spent with this transaction: a refused sign-up leaves the solution unspent.
            botcheck.verify(conn, rt, tenant.id, bot_solution, flow_id=flow.id)
        signup.refuse_taken(conn, pool.directory, claimed)
        challenge = signup.new_user_challenge(
            conn, rt, tenant, pool.directory, claimed, fields, {"pool_flow": flow.id}
        )
        flow = _await(conn, rt, flow, challenge)
    options = creation_options(
        _rp(tenant, pool), PasskeyUser.of_context(challenge.context), challenge.challenge
    )
    return Options(flow, cookie, options)


def _await(
    conn: Connection,
    rt: Runtime,
    flow: Flow,
    challenge: Challenge,
    journey: dict[str, Any] | None = None,
) -> Flow:
    # A new challenge replaces an unanswered one (the user cancelled the browser's prompt).
    return flows.advance(
        conn,
        rt,
        flow,
        from_states=(flows.ACTIVE, flows.AWAITING_CREDENTIAL),
        to_state=flows.AWAITING_CREDENTIAL,
        context={"challenge_id": challenge.id, **(journey or {})},
    )


def add_passkey_begin(
    rt: Runtime, tenant: Tenant, pool: Pool, *, user: User, ref: FlowRef
) -> Options:
    """Options for another passkey of a known user, in a registration flow that carries them
    (started by the account page, or by a recovery that proved the user's e-mail)."""
    with rt.transaction() as conn:
        flow, _ = flow_refs.flow_for(conn, rt, tenant, pool, flows.REGISTRATION, ref)
        if flow.user_id != user.id:
            raise flows.FlowMismatch("this flow belongs to another user")
        existing = credential_store.for_user(conn, tenant.id, user.id)
        replacing = flow.context.get("recovery") and not pool.settings.recovery_keeps_passkeys
        if len(existing) >= pool.settings.max_passkeys and not replacing:
            raise PasskeyLimitReached(
                f"this account already has {len(existing)} passkeys, the most this pool allows"
            )
        entity = PasskeyUser.named(
            user.user_handle,
            fallback=user.external_id,
            name=user.username,
            display_name=user.display_name,
        )
        challenge = challenges.issue(
            conn,
            rt,
            tenant=tenant,
            kind=challenges.REGISTRATION,
            user_id=user.id,
            context={
                "pool_flow": flow.id,
                "directory_id": pool.id,
                "external_user_id": user.external_id,
                **entity.context(),
            },
        )
        flow = _await(conn, rt, flow, challenge)
    options = creation_options(_rp(tenant, pool), entity, challenge.challenge, exclude=existing)
    return Options(flow, None, options)


def _waiting_flow(rt: Runtime, tenant: Tenant, pool: Pool, kind: str, ref: FlowRef) -> Flow:
    with rt.read() as conn:
        flow = flow_refs.load_flow(conn, rt, tenant, pool, kind, ref)
    if flow.state != flows.AWAITING_CREDENTIAL or "challenge_id" not in flow.context:
        raise flows.FlowUsed("this flow is not waiting for a passkey; request options first")
    return flow


def _check_challenge(flow: Flow, pool: Pool, challenge: Challenge) -> None:
    if (
        challenge.context.get("pool_flow") != flow.id
        or challenge.context.get("directory_id") != pool.id
    ):
        raise flows.FlowMismatch("this passkey answers another flow's challenge")


def _complete(conn: Connection, rt: Runtime, flow: Flow, user_id: str) -> Flow:
    """Finish the flow with the ceremony it was waiting on, once."""
    if flow.user_id not in (None, user_id):
        raise flows.FlowMismatch("this flow belongs to another user")
    return flows.advance(
        conn,
        rt,
        flow,
        from_states=(flows.AWAITING_CREDENTIAL,),
        to_state=flows.COMPLETED,
        user_id=user_id,
    )


def _sign_in(
    conn: Connection,
    rt: Runtime,
    tenant: Tenant,
    flow: Flow,
    user: User,
    credential: Credential,
    event: tuple[str, RequestMeta],
    *,
    open_session: bool = True,
) -> tuple[Flow, sso.Opened | None]:
    """End the flow with this user and open their SSO session, in the ceremony's transaction,
    with the pool's own event (the passkey event of the ceremony is recorded beside it)."""
    completed = _complete(conn, rt, flow, user.id)
    opened = (
        sso.open_session(
            conn,
            rt,
            tenant_id=tenant.id,
            user_id=user.id,
            amr=amr.of_passkey(credential),
            credential_id=credential.id,
        )
        if open_session
        else None
    )
    kind, meta = event
    events.record(
        conn,
        rt,
        tenant_id=tenant.id,
        kind=kind,
        meta=meta,
        user_id=user.id,
        credential_id=credential.id,
        detail={
            "pool_id": flow.directory_id,
            "flow_id": flow.id,
            **sign_in_journey.detail(rt, flow.context),
        },
    )
    if sign_in_journey.from_offer(flow):
        sign_in_journey.record_offer_accepted(
            conn, rt, flow=flow, user_id=user.id, credential_id=credential.id, meta=meta
        )
    return completed, opened


def register_finish(
    rt: Runtime,
    tenant: Tenant,
    pool: Pool,
    *,
    credential: Mapping[str, Any],
    ref: FlowRef,
    meta: RequestMeta,
    sender: str = "",
    translator: i18n.Translator | None = None,
) -> SignedIn:
    """Store the new passkey (and, on sign-up, the user); the user is then signed in, unless
    the pool wants the sign-up's e-mail proved first. `sender`: the default From address of
    the e-mail verification mail; `translator`: its language."""
    flow = _waiting_flow(rt, tenant, pool, flows.REGISTRATION, ref)
    # Adding a passkey while signed in is no new sign-in: a fresh session here would pass for
    # one (its auth_time and amr would satisfy max_age, prompt=login and amr checks).
    recovering = bool(flow.user_id is not None and flow.context.get("recovery"))
    adding = flow.user_id is not None and not recovering
    # A recovery's passkey replaces the others, so the limit cannot stand in its way.
    replacing = recovering and not pool.settings.recovery_keeps_passkeys

    def check(conn: Connection, challenge: Challenge) -> None:
        _check_challenge(flow, pool, challenge)
        if challenge.user_id is not None and not replacing:
            user_store.lock(conn, tenant.id, challenge.user_id)
            count = len(credential_store.for_user(conn, tenant.id, challenge.user_id))
            if count >= pool.settings.max_passkeys:
                raise PasskeyLimitReached("this account has the most passkeys this pool allows")

    kind = POOL_SIGNED_UP if flow.user_id is None else POOL_PASSKEY_ADDED

    def sign_in(
        conn: Connection, _challenge: Challenge, result: tenant_passkeys.Registration
    ) -> tuple[Flow, sso.Opened | None, flows.Started | None]:
        """The flow completed, the recovery's old passkeys replaced, the sign-up's e-mail
        verification started and the SSO session opened, in the registration's transaction."""
        if recovering:
            # Before the new session opens: every older one ends.
            account_recovery.replace_passkeys(
                conn,
                rt,
                tenant_id=tenant.id,
                pool=pool,
                user_id=result.user.id,
                new_passkey_id=result.credential.id,
                meta=meta,
            )
        verification = None
        if flow.user_id is None:
            verification = email_verification.start(
                conn,
                rt,
                tenant,
                pool,
                user=result.user,
                amr=amr.of_passkey(result.credential),
                credential_id=result.credential.id,
                return_to=flow.context.get("return_to"),
                sender=sender,
                translator=translator,
            )
        unproved = (
            verification is not None
            and pool.settings.email_verification == email_verification.REQUIRED
        )
        event = (kind, meta)
        completed, opened = _sign_in(
            conn,
            rt,
            tenant,
            flow,
            result.user,
            result.credential,
            event,
            open_session=not adding and not unproved,
        )
        return completed, opened, verification

    result = ceremony.finish_registration(
        rt,
        app_origins.relying_party(rt, tenant),
        tenant_passkeys.TenantKeyring(tenant),
        challenge_id=flow.context["challenge_id"],
        credential=credential,
        meta=meta,
        check=check,
        then=sign_in,
    )
    completed, opened, verification = result.records
    return SignedIn(
        completed,
        result.user,
        result.credential,
        opened,
        signup=flow.user_id is None,
        verification=verification,
    )


def login_options(
    rt: Runtime,
    tenant: Tenant,
    pool: Pool,
    *,
    identifier: str | None,
    ref: FlowRef | None,
    prompt: sign_in_journey.PasskeyPrompt | None = None,
    since_load_ms: int | None = None,
) -> Options:
    """Discoverable options (no allowCredentials), with or without an identifier: an
    unauthenticated caller learns neither whether the account exists nor its credential ids
    (issue 21 item 7). The identifier-first page still asks for it first; the browser then
    offers the passkeys it holds for this RP ID, and whichever user answers is signed in."""
    # The identifier narrows nothing; it only tells the funnel how the user signed in.
    method = sign_in_journey.IDENTIFIER if identifier else prompt
    journey = sign_in_journey.context(rt, method=method, since_load_ms=since_load_ms)
    with rt.transaction() as conn:
        flow, cookie = flow_refs.flow_for(conn, rt, tenant, pool, flows.LOGIN, ref)
        challenge = signup.sign_in_challenge(
            conn, rt, tenant, {"pool_flow": flow.id, "directory_id": pool.id}
        )
        flow = _await(conn, rt, flow, challenge, journey)
    options = request_options(_rp(tenant, pool), challenge.challenge)
    return Options(flow, cookie, options)


def login_finish(
    rt: Runtime,
    tenant: Tenant,
    pool: Pool,
    *,
    credential: Mapping[str, Any],
    ref: FlowRef,
    meta: RequestMeta,
) -> SignedIn:
    flow = _waiting_flow(rt, tenant, pool, flows.LOGIN, ref)

    def open_session(
        conn: Connection, challenge: Challenge, result: tenant_passkeys.SignIn
    ) -> tuple[Flow, sso.Opened | None]:
        """The flow completed and the SSO session opened, in the sign-in's transaction."""
        if result.user.directory_id != pool.id:
            # Another pool's passkey is as unknown here as another tenant's.
            raise CredentialNotFound("this passkey is not registered in this pool")
        _check_challenge(flow, pool, challenge)
        email_verification.require_proved(conn, pool, result.user.id)
        event = (POOL_SIGNED_IN, meta)
        return _sign_in(conn, rt, tenant, flow, result.user, result.credential, event)

    result = ceremony.finish_sign_in(
        rt,
        app_origins.relying_party(rt, tenant),
        tenant_passkeys.TenantKeyring(tenant),
        challenge_id=flow.context["challenge_id"],
        credential=credential,
        meta=meta,
        then=open_session,
    )
    completed, opened = result.records
    return SignedIn(completed, result.user, result.credential, opened, signup=False)
