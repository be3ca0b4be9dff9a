"""One tenant's authorization server (RFC 6749) on Authlib's server framework, for one request
on one database connection, with our own token issuance (oauth2/tokens.py); the OpenID
provider registers its grant and endpoints on it (oidc/provider.py)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from authlib.oauth2.rfc6749 import (
    AuthorizationServer,
    InsecureTransportError,
    OAuth2Payload,
    OAuth2Request,
)
from sqlalchemy import Connection

from latchkey.models import Tenant
from latchkey.oauth2.client_model import SCOPES, OAuthClient
from latchkey.oauth2.errors import InvalidRequest
from latchkey.oauth2.tokens import Grant, issue
from latchkey.runtime import RequestMeta, Runtime
from latchkey.services import events
from latchkey.store import apps as app_store


@contextmanager
def readable_errors() -> Iterator[None]:
    """Authlib will not build an error whose description would echo a `"` or `\\` the caller
    sent (RFC 6749 §5.2 limits those characters) and raises ValueError instead: that is the
    caller's invalid request, not a server fault."""
    try:
        yield
    except ValueError as exc:
        if "forbidden characters" not in str(exc):
            raise
        raise InvalidRequest(
            'a parameter holds a character OAuth does not allow (" or \\)'
        ) from exc


@dataclass(frozen=True)
class OAuthCall:
    """An HTTP request as the protocol sees it: method, URL, its parameters (query or form)
    in order, repeats kept, and the headers (for client authentication)."""

    method: str
    uri: str
    params: Sequence[tuple[str, str]]
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Answer:
    status: int
    body: Any
    headers: dict[str, str]

    @property
    def location(self) -> str | None:
        return self.headers.get("Location")


class _Payload(OAuth2Payload):
    def __init__(self, params: Sequence[tuple[str, str]]) -> None:
        self._datalist: defaultdict[str, list[str]] = defaultdict(list)
        for key, value in params:
            self._datalist[key].append(value)
        # A repeated parameter is refused by the grant (RFC 6749 §3.1); the first is read.
        self._data = {key: values[0] for key, values in self._datalist.items()}

    @property
    def data(self) -> dict[str, str]:
        return self._data

    @property
    def datalist(self) -> defaultdict[str, list[str]]:
        return self._datalist


class _Request(OAuth2Request):
    def __init__(self, call: OAuthCall) -> None:
        super().__init__(call.method, call.uri, headers=dict(call.headers))
        self.payload = _Payload(call.params)

    @property
    def args(self) -> dict[str, str]:
        return dict(self.payload.data)

    @property
    def form(self) -> dict[str, str]:
        return dict(self.payload.data)


@dataclass(frozen=True)
class CodeOwner:
    """Who an authorization code was issued to, as the token generator needs it."""

    grant: Grant


class Provider(AuthorizationServer):
    def __init__(
        self,
        rt: Runtime,
        conn: Connection,
        tenant: Tenant,
        issuer: str,
        *,
        sso_token: str | None = None,
        meta: RequestMeta | None = None,
    ) -> None:
        super().__init__(scopes_supported=list(SCOPES))
        self.rt = rt
        self.conn = conn
        self.tenant = tenant
        self.issuer = issuer
        # The browser's SSO cookie, for the end-session endpoint to end.
        self.sso_token = sso_token
        self.meta = meta or RequestMeta()
        # The grants and endpoints are registered by whoever serves them (oidc/provider.py).
        self.register_token_generator("default", self._tokens)

    def record(
        self, kind: str, *, user_id: str | None, reason: str | None = None, **detail: Any
    ) -> None:
        """An event in the request's transaction."""
        events.record(
            self.conn,
            self.rt,
            tenant_id=self.tenant.id,
            kind=kind,
            meta=self.meta,
            reason=reason,
            user_id=user_id,
            detail=detail,
        )

    def query_client(self, client_id: Any) -> OAuthClient | None:
        if not isinstance(client_id, str) or not 0 < len(client_id) <= 64:
            return None
        app = app_store.by_client_id(self.conn, client_id)
        if app is None or app.tenant_id != self.tenant.id:
            return None
        return OAuthClient(app)

    def save_token(self, token: dict[str, Any], request: OAuth2Request) -> None:
        """Nothing to do: `issue` stored the refresh token (hashed) when it made it."""

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        """No listeners: events are recorded by the services."""

    def create_oauth2_request(self, request: Any) -> OAuth2Request:
        if isinstance(request, OAuth2Request):
            return request
        try:
            return _Request(request)
        except InsecureTransportError as exc:
            # Authlib refuses plain http except on localhost: set LATCHKEY_PUBLIC_URL to https.
            raise InvalidRequest(
                "OAuth needs https: this issuer is served over plain http"
            ) from exc

    def handle_response(self, status: int, body: Any, headers: Any) -> Answer:
        return Answer(status, body, dict(headers))

    def _tokens(self, *, user: CodeOwner, include_refresh_token: bool, **_: Any) -> dict[str, Any]:
        # The ID token is added by the OpenID extension (oidc/id_token.py), with the code's
        # nonce and at_hash; the refresh token only with offline_access and the app's grant.
        return issue(
            self.conn,
            self.rt,
            user.grant,
            id_token=False,
            refresh=include_refresh_token,
        )
