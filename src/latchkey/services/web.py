"""The web passkey flows the browser SDK drives: sign up with an action token, sign in with
or without one. Each is the shared ceremony plus the action bookkeeping, in one transaction."""

from __future__ import annotations

from collections.abc import Mapping
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from latchkey.errors import BindingRequired, ChallengeError, ChallengeNotFound, InvalidToken
from latchkey.models import Action, Challenge, Credential, Tenant, User
from latchkey.runtime import RequestMeta, Runtime
from latchkey.runtime.group_commit import Expected
from latchkey.services import (
    action_names,
    actions,
    app_origins,
    ceremony,
    challenges,
    sealed_challenges,
    tenant_passkeys,
)
from latchkey.services.passkey_options import request_options
from latchkey.store import actions as action_store
from latchkey.store import credentials as credential_store

DEFAULT_SIGN_IN_ACTION = "signInWithPasskey"


@dataclass(frozen=True, slots=True)
class Outcome:
    user: User
    credential: Credential
    action: Action
    token: str


def _require_binding(conn: Connection, tenant: Tenant, action: Action) -> None:
    """Authenticator binding: a user who already has a passkey adds another only through an
    action tracked with scope add:authenticators (they proved who they are first)."""
    has_one = bool(credential_store.for_user(conn, tenant.id, action.user_id))
    if has_one and actions.ADD_AUTHENTICATORS not in action.scopes:
        raise BindingRequired(
            "this user already has an authenticator: track the action with scope"
            " add:authenticators after they have signed in"
        )


def sign_up_options(
    rt: Runtime,
    tenant: Tenant,
    action: Action,
    user: User,
    *,
    username: str | None,
    display_name: str | None,
    attachment: str | None,
) -> ceremony.Options:
    actions.require_pending(action)
    with rt.transaction() as conn:
        _require_binding(conn, tenant, action)
    return tenant_passkeys.registration_options(
        rt,
        tenant,
        external_user_id=user.external_id,
        username=username,
        display_name=display_name,
        attachment=attachment,
    )


def sign_up(
    rt: Runtime,
    tenant: Tenant,
    action: Action,
    user: User,
    *,
    challenge_id: str,
    credential: Mapping[str, Any],
    meta: RequestMeta,
    conditional: bool,
) -> Outcome:
    actions.require_pending(action)  # and again when the success is recorded (a race)

    def check(conn: Connection, challenge: Challenge) -> None:
        if challenge.context.get("external_user_id") != user.external_id:
            raise InvalidToken("the token is for another user than this challenge")
        _require_binding(conn, tenant, action)  # again: a passkey may have landed meanwhile

    def succeed(
        conn: Connection, _challenge: Challenge, result: tenant_passkeys.Registration
    ) -> tuple[Action, str]:
        """The action's success and its result token, in the registration's transaction."""
        return actions.succeed(
            conn, rt, tenant, action=action, user=result.user, credential=result.credential
        )

    result = ceremony.finish_registration(
        rt,
        app_origins.relying_party(rt, tenant),
        tenant_passkeys.TenantKeyring(tenant),
        challenge_id=challenge_id,
        credential=credential,
        meta=meta,
        conditional=conditional,
        check=check,
        then=succeed,
    )
    return Outcome(result.user, result.credential, *result.records)


def anonymous_action(rt: Runtime, tenant: Tenant, action_name: str | None) -> str:
    """The action an anonymous sign-in names (the default when none), if it may carry it."""
    name = actions.check_action_name(action_name) if action_name else DEFAULT_SIGN_IN_ACTION
    return action_names.precheck_anonymous(rt, tenant, name)


def challenge(rt: Runtime, tenant: Tenant, *, action_name: str | None) -> str:
    """A discoverable sign-in challenge named for an action, before any options are shown."""
    name = anonymous_action(rt, tenant, action_name)
    return tenant_passkeys.sign_in_options(rt, tenant, context={"action": name}).challenge_id


def sign_in_options(
    rt: Runtime,
    tenant: Tenant,
    *,
    token_action: tuple[Action, User] | None,
    challenge_id: str | None,
) -> ceremony.Options:
    if token_action is not None:
        action, user = token_action
        actions.require_pending(action)
        return tenant_passkeys.sign_in_options(
            rt,
            tenant,
            external_user_id=user.external_id,
            context={"action": action.action, "action_id": action.id},
        )
    if challenge_id:
        return _pending_options(rt, tenant, challenge_id)
    name = anonymous_action(rt, tenant, None)
    return tenant_passkeys.sign_in_options(rt, tenant, context={"action": name})


def _pending_options(rt: Runtime, tenant: Tenant, challenge_id: str) -> ceremony.Options:
    """Options for a discoverable challenge issued before (by /challenge), unused."""
    unusable = ChallengeNotFound("unknown or used challenge; start the sign-in again")
    try:
        found = challenges.open_for(
            rt, scope=tenant.id, challenge_id=challenge_id, kind=challenges.AUTHENTICATION
        )
    except ChallengeError as error:
        raise unusable from error
    if found.user_id is not None:
        raise unusable
    if sealed_challenges.is_sealed(found.id):
        with rt.read() as conn:
            if sealed_challenges.was_used(conn, found):
                raise unusable
    options = request_options(tenant.relying_party, found.challenge)
    return ceremony.Options(found.id, options)


@dataclass(frozen=True, slots=True)
class PendingSignIn:
    """A verified sign-in queued for the group writer; `outcome` once its future is done."""

    future: Future[Any]

    def outcome(self) -> Outcome:
        return self.settled(self.future.result())

    @staticmethod
    def settled(committed: Any) -> Outcome:
        """The outcome from what the future gave (a caller that awaited it on a loop)."""
        result = ceremony.signed_in(committed)
        return Outcome(result.user, result.credential, *result.records)


def sign_in(
    rt: Runtime,
    tenant: Tenant,
    *,
    token_action: tuple[Action, User] | None,
    challenge_id: str,
    credential: Mapping[str, Any],
    meta: RequestMeta,
) -> Outcome:
    return start_sign_in(
        rt,
        tenant,
        token_action=token_action,
        challenge_id=challenge_id,
        credential=credential,
        meta=meta,
    ).outcome()


def start_sign_in(
    rt: Runtime,
    tenant: Tenant,
    *,
    token_action: tuple[Action, User] | None,
    challenge_id: str,
    credential: Mapping[str, Any],
    meta: RequestMeta,
    expected: Expected | None = None,
) -> PendingSignIn:
    def succeed(
        conn: Connection, used: Challenge, result: tenant_passkeys.SignIn
    ) -> tuple[Action, str]:
        """The action's success and its result token, in the sign-in's transaction."""
        if used.context.get("native"):
            raise ChallengeNotFound("this is a native app's challenge, not a browser's")
        action = None
        if used.context.get("action_id"):
            action = action_store.get(conn, tenant.id, used.context["action_id"])
        if token_action is not None and (action is None or action.id != token_action[0].id):
            raise InvalidToken("the token is for another sign-in than this challenge")
        if action is None:
            # Again at the end: the backend may have begun tracking the name meanwhile.
            name = used.context.get("action", DEFAULT_SIGN_IN_ACTION)
            return action_names.succeed_anonymous(
                conn, rt, tenant, user=result.user, credential=result.credential, name=name
            )
        return actions.succeed(
            conn, rt, tenant, action=action, user=result.user, credential=result.credential
        )

    future = ceremony.start_sign_in(
        rt,
        app_origins.relying_party(rt, tenant),
        tenant_passkeys.TenantKeyring(tenant),
        challenge_id=challenge_id,
        credential=credential,
        meta=meta,
        then=succeed,
        expected=expected,
    )
    return PendingSignIn(future)


@dataclass(frozen=True)
class Hosted:
    """What the hosted page of a tracked action needs: which ceremony, and where to go after."""

    action: Action
    enrolled: bool
    redirect_url: str | None


def hosted(rt: Runtime, tenant: Tenant, action: Action) -> Hosted:
    """The hosted page signs an enrolled user in and enrols anyone else (sign-up), for an
    action still waiting for its challenge."""
    actions.require_pending(action)
    with rt.read() as conn:
        enrolled = bool(credential_store.for_user(conn, tenant.id, action.user_id))
    redirect = action.attributes.get("redirectUrl")
    return Hosted(action, enrolled, redirect if isinstance(redirect, str) else None)
