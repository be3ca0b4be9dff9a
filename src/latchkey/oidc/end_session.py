"""RP-Initiated Logout 1.0 on Authlib's end-session endpoint: the ID token hint must be one of
the tenant's own, a post-logout redirect must be one of the app's registered redirect URIs and
is followed only with a valid hint; ending the session revokes the browser's SSO session."""

from __future__ import annotations

from authlib.oidc.rpinitiated import EndSessionEndpoint, EndSessionRequest
from joserfc.jwk import KeySet

from latchkey import event_kinds
from latchkey.services import signing_keys
from latchkey.services.pools import sso
from latchkey.store import sso_sessions as session_store


class EndSession(EndSessionEndpoint):
    def get_server_jwks(self) -> KeySet:
        server = self.server
        # On the request's own connection: a second transaction would wait on this one.
        found = signing_keys.published(server.conn, server.rt, server.tenant.id)
        return KeySet.import_key_set(found)  # type: ignore[arg-type]

    def end_session(self, end_session_request: EndSessionRequest) -> None:
        server = self.server
        found = sso.find(server.conn, server.rt, server.tenant.id, server.sso_token)
        if found is not None and session_store.revoke(
            server.conn, session_id=found.id, now=server.rt.now()
        ):
            server.record(event_kinds.OIDC_SIGNED_OUT, user_id=found.user_id)
