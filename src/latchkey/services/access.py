"""Ending access: when a passkey is deleted or a user disabled, what they opened ends with them,
in the same transaction and whichever surface made the change (account page, /v1, management
API, portal, recovery). A passkey's SSO sessions and refresh-token families end with it; a
user's all of theirs."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection

from latchkey.store import credentials as credential_store
from latchkey.store import refresh_tokens as refresh_store
from latchkey.store import sso_sessions as session_store


def end_for_passkey(conn: Connection, credential_row_id: str, now: datetime) -> None:
    """End the SSO sessions and refresh-token families this passkey's sign-ins opened."""
    session_store.revoke_for_credential(conn, credential_id=credential_row_id, now=now)
    refresh_store.revoke_for_credential(conn, credential_row_id, now)


def end_for_user(conn: Connection, user_id: str, now: datetime) -> None:
    """End every SSO session and refresh-token family of the user."""
    session_store.revoke_for_user(conn, user_id=user_id, now=now)
    refresh_store.revoke_for_user(conn, user_id, now)


def remove_passkey(
    conn: Connection, tenant_id: str, user_id: str, credential_row_id: str, now: datetime
) -> bool:
    """Delete the user's passkey and end what it opened; False when they have no such passkey."""
    if not credential_store.remove(conn, tenant_id, user_id, credential_row_id):
        return False
    end_for_passkey(conn, credential_row_id, now)
    return True
