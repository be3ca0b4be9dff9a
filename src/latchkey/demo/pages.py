"""The demo's HTML: one small layout, values escaped, page data passed to scripts as JSON."""

from __future__ import annotations

import json
from html import escape
from typing import Any

_STYLE = """
body { font: 16px/1.5 system-ui, sans-serif; max-width: 34rem; margin: 3rem auto; padding: 0 1rem;
       color: #1d2433; }
h1 { font-size: 1.5rem; }
label { display: block; font-weight: 600; margin-top: 1rem; }
input { font: inherit; padding: .5rem; width: 100%; box-sizing: border-box; }
button { font: inherit; margin-top: 1rem; padding: .6rem 1rem; border: 0; border-radius: .4rem;
         background: #2a4dd0; color: #fff; cursor: pointer; }
button:focus-visible, input:focus-visible, a:focus-visible { outline: 3px solid #f0a500; }
.note { color: #555; font-size: .9rem; }
.ok { color: #0a6b2f; } .error { color: #a4161a; }
#status:empty { margin: 0; }
"""


def layout(title: str, body: str, *, script: str = "", data: dict[str, Any] | None = None) -> str:
    # JSON in a <script type="application/json"> block; "</" is escaped so it cannot close it.
    page_data = json.dumps(data or {}).replace("</", "<\\/")
    module = f'<script type="module">{script}</script>' if script else ""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)}</title><link rel="icon" href="/favicon.svg" type="image/svg+xml">
<style>{_STYLE}</style></head>
<body><main><h1>{escape(title)}</h1>{body}</main>
<script type="application/json" id="page-data">{page_data}</script>{module}</body></html>"""


# The browser side, as a team would write it against the Web SDK served by Latchkey.
SDK_SETUP = """
const page = JSON.parse(document.getElementById("page-data").textContent);
const baseUrl = page.latchkeyUrl + "/v1";
async function vendorSdk(url) {
  // The hosted vendor's unmodified browser SDK, pointed at Latchkey: a drop-in replacement.
  await new Promise((resolve, reject) => {
    const script = Object.assign(document.createElement("script"), { src: url });
    script.onload = resolve;
    script.onerror = reject;
    document.head.append(script);
  });
  const vendor = new authsignal.Authsignal({ tenantId: page.tenantId, baseUrl });
  return { passkey: {
    signUp: (options) => vendor.passkey.signUp(options),
    signIn: (options) => vendor.passkey.signIn(options)
      .catch((e) => ({ aborted: e.name === "AbortError", error: e.name })),
    isAvailable: async () => ({
      autofill: await PublicKeyCredential.isConditionalMediationAvailable(),
    }),
  } };
}
async function latchkeySdk() {
  const { Latchkey } = await import(page.latchkeyUrl + "/sdk/v1/latchkey.mjs");
  return new Latchkey({ tenantId: page.tenantId, baseUrl });
}
const latchkey = page.vendorSdkUrl ? await vendorSdk(page.vendorSdkUrl) : await latchkeySdk();
const status = document.getElementById("status");
function show(text, kind) { status.textContent = text; status.className = kind; }
function submitToken(action, token) {
  const form = document.createElement("form");
  form.method = "post";
  form.action = action;
  const field = document.createElement("input");
  field.type = "hidden"; field.name = "token"; field.value = token;
  form.append(field);
  document.body.append(form);
  form.submit();
}
"""

LOGIN_SCRIPT = (
    SDK_SETUP
    + """
function finish(result) {
  if (result.data && result.data.token) return submitToken("/callback", result.data.token);
  if (result.aborted) return;  // autofill gave way to the button
  if (result.error) show(result.errorDescription || result.error, "error");
}
document.getElementById("passkey-button").addEventListener("click", async () => {
  show("Waiting for your passkey…", "note");
  finish(await latchkey.passkey.signIn({ action: "sign-in" }));
});
document.body.dataset.ready = "true";  // the SDK is loaded and the button listens
const available = await latchkey.passkey.isAvailable();
if (available && available.autofill !== false) {
  latchkey.passkey.signIn({ action: "sign-in", autofill: true }).then(finish);
}
"""
)

SIGN_UP_SCRIPT = (
    SDK_SETUP
    + """
document.getElementById("create-button").addEventListener("click", async () => {
  show("Creating a passkey…", "note");
  const result = await latchkey.passkey.signUp({ token: page.token, username: page.username });
  if (result.data && result.data.token) return submitToken("/passkey-added", result.data.token);
  show(result.errorDescription || result.error || "The passkey was not created.", "error");
});
document.body.dataset.ready = "true";  // the SDK is loaded and the button listens
"""
)


def login_page() -> str:
    return """
<p>Sign in to the demo with a passkey made on the web app.</p>
<form id="login" onsubmit="return false">
  <label for="username">Username</label>
  <input id="username" name="username" autocomplete="username webauthn" autofocus>
  <button id="passkey-button" type="button">Sign in with passkey</button>
</form>
<p id="status" role="status" aria-live="polite"></p>"""


def signed_in_page(username: str, user_id: str, app_url: str) -> str:
    return f"""
<p id="who" class="ok">Signed in as <strong>{escape(username)}</strong>
(user id <code>{escape(user_id)}</code>). The token was validated by this login server.</p>
<p><a href="{escape(app_url)}">Back to the web app</a> · <a href="/">Sign in again</a></p>"""


def failed_page(reason: str) -> str:
    return f"""
<p id="who" class="error">{escape(reason)}</p><p><a href="/">Try again</a></p>"""


# The username rule, for the form's `pattern` (compiled by browsers with the `v` flag, where a
# `-` in a class must be escaped) and the backend's check (apps.py).
USERNAME_CLASS = r"A-Za-z0-9._@\-"


def app_home(login_url: str) -> str:
    return f"""
<p>This web app adds passkeys to your account. Its backend tracks an <code>add-passkey</code>
action with the <code>add:authenticators</code> scope, and your browser creates the passkey.</p>
<p id="real-app-note" class="note"><strong>In a real app</strong> this page is shown only to a
signed-in user, and the account comes from their session, never from a form: whoever could type
a username here could add their own passkey to someone else's account. The demo asks for a
username so you can try it without an account system.</p>
<form method="post" action="/add-passkey">
  <label for="username">Your username</label>
  <input id="username" name="username" autocomplete="username" required maxlength="64"
         pattern="[{USERNAME_CLASS}]+" title="letters, digits and . _ @ -">
  <button type="submit">Add a passkey</button>
</form>
<p class="note">Then sign in on the login server:
  <a href="{escape(login_url)}">{escape(login_url)}</a></p>
"""


def add_passkey_page(username: str) -> str:
    return f"""
<p>Create a passkey for <strong>{escape(username)}</strong>.</p>
<p class="note">(A real app offers this only to the signed-in owner of the account.)</p>
<button id="create-button" type="button">Create passkey</button>
<p id="status" role="status" aria-live="polite"></p>"""


def passkey_added_page(username: str, login_url: str) -> str:
    return f"""
<p id="added" class="ok">A passkey was added for <strong>{escape(username)}</strong>.</p>
<p>Now <a href="{escape(login_url)}">sign in on the login server</a> with it.</p>"""
