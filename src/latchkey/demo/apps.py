"""The demo's two apps, written as a team would write them against Latchkey.

- The login server (its own origin) offers passkey autofill and a "Sign in with passkey" button
  and validates the SDK's token server-side in its callback.
- The web app (another origin) tracks `add-passkey` with scope `add:authenticators` for the
  user and lets the browser create the passkey with `signUp({ token })`.
Both backends talk to Latchkey's server API through `latchkey.sdk` with the tenant's secret key;
the browsers load the Web SDK from Latchkey.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from litestar import Litestar, MediaType, get, post
from litestar.datastructures import State
from litestar.params import URLEncodedBody

from latchkey.demo import pages
from latchkey.demo.setup import DemoConfig
from latchkey.sdk import AsyncLatchkeyClient, LatchkeyError
from latchkey.web import favicon

_USERNAME = re.compile(rf"^[{pages.USERNAME_CLASS}]{{1,64}}$")


@dataclass
class TokenForm:
    token: str = ""


@dataclass
class UsernameForm:
    username: str = ""


def _config(state: State) -> DemoConfig:
    config: DemoConfig = state.config
    return config


def _client(state: State) -> AsyncLatchkeyClient:
    client: AsyncLatchkeyClient = state.client
    return client


def _page_data(config: DemoConfig, **extra: Any) -> dict[str, Any]:
    # Only what a browser may know: Latchkey's address and the public tenant id.
    data = {"latchkeyUrl": config.latchkey_url, "tenantId": config.tenant_id, **extra}
    if config.vendor_sdk_url:
        data["vendorSdkUrl"] = config.vendor_sdk_url
    return data


# --- The login server -------------------------------------------------------------------------


@get("/", media_type=MediaType.HTML)
async def login(state: State) -> str:
    return pages.layout(
        "Demo login",
        pages.login_page(),
        script=pages.LOGIN_SCRIPT,
        data=_page_data(_config(state)),
    )


@post("/callback", media_type=MediaType.HTML, status_code=200)
async def callback(state: State, data: URLEncodedBody[TokenForm]) -> str:
    """Never trust the browser's word: the token counts only once Latchkey validates it."""
    try:
        result = await _client(state).validate(data.token, action="sign-in")
    except LatchkeyError as exc:
        return pages.layout("Demo login", pages.failed_page(f"Latchkey refused: {exc}"))
    if not result.is_valid:
        return pages.layout("Demo login", pages.failed_page("That sign-in is not valid."))
    who = result.username or result.user_id or ""
    body = pages.signed_in_page(who, result.user_id or "", _config(state).app_url)
    return pages.layout("Demo login", body)


# --- The web app ------------------------------------------------------------------------------


@get("/", media_type=MediaType.HTML)
async def app_home(state: State) -> str:
    return pages.layout("Demo web app", pages.app_home(_config(state).login_url))


@post("/add-passkey", media_type=MediaType.HTML, status_code=200)
async def add_passkey(state: State, data: URLEncodedBody[UsernameForm]) -> str:
    username = data.username.strip()
    if not _USERNAME.match(username):
        return pages.layout("Demo web app", pages.failed_page("Choose a simpler username."))
    # In a real app the user is signed in and this is their account id.
    tracked = await _client(state).track(
        username,
        "add-passkey",
        {"username": username, "displayName": username, "scope": "add:authenticators"},
    )
    return pages.layout(
        "Demo web app",
        pages.add_passkey_page(username),
        script=pages.SIGN_UP_SCRIPT,
        data=_page_data(_config(state), token=tracked.token, username=username),
    )


@post("/passkey-added", media_type=MediaType.HTML, status_code=200)
async def passkey_added(state: State, data: URLEncodedBody[TokenForm]) -> str:
    result = await _client(state).validate(data.token, action="add-passkey")
    if not result.is_valid:
        return pages.layout("Demo web app", pages.failed_page("The passkey was not confirmed."))
    body = pages.passkey_added_page(result.username or "", _config(state).login_url)
    return pages.layout("Demo web app", body)


def _app(config: DemoConfig, handlers: list[Any]) -> Litestar:
    client = AsyncLatchkeyClient(config.secret, base_url=f"{config.latchkey_url}/v1")

    async def close_client() -> None:
        await client.aclose()

    return Litestar(
        route_handlers=[*handlers, *favicon.handlers],
        state=State({"config": config, "client": client}),
        on_shutdown=[close_client],
        openapi_config=None,
        logging_config=None,
    )


def login_server(config: DemoConfig) -> Litestar:
    return _app(config, [login, callback])


def web_app(config: DemoConfig) -> Litestar:
    return _app(config, [app_home, add_passkey, passkey_added])
