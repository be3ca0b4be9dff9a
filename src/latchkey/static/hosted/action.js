// The hosted page of a tracked action (api/action_page.py): with the action token from the
// URL's fragment, sign in with a passkey (or create one for a user who has none) through the
// /v1 client API, then go to the action's redirectUrl with ?token=<result token>, or, opened
// as a window by the app's page (mode=popup), post the token to it.

import { creationOptions, credentialJSON, requestOptions } from "/static/shared/webauthn-json.js";

const statusLine = document.getElementById("status");
// The page's messages in its language (i18n/script_messages.py), from a JSON data block.
const catalog = JSON.parse(document.getElementById("page-messages").textContent);
const t = (key) => catalog.messages[key] || key;
const button = document.getElementById("action-button");
const intro = document.getElementById("intro");
const params = new URLSearchParams(window.location.hash.slice(1));
const token = params.get("token");
const inWindow = params.get("mode") === "popup" && window.opener;
// Out of the address bar and history: the token stays in this page's memory only.
history.replaceState(null, "", window.location.pathname);

function say(message, isError = false) {
  statusLine.textContent = message;
  statusLine.classList.toggle("error", isError);
}

async function client(method, path, body) {
  const response = await fetch(`/v1/client/${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const answer = await response.json().catch(() => null);
  if (!response.ok) {
    const code = answer && answer.errorCode;
    const error = new Error(catalog.errors[code] || (answer && answer.errorDescription) || t("failed"));
    error.code = answer && answer.errorCode;
    error.status = response.status;
    throw error;
  }
  return answer;
}

async function signIn() {
  const begun = await client("POST", "user-authenticators/passkey/authentication-options", {});
  const credential = await navigator.credentials.get({ publicKey: requestOptions(begun.options) });
  return client("POST", "verify/passkey", {
    challengeId: begun.challengeId,
    authenticationCredential: credentialJSON(credential),
  });
}

async function signUp() {
  const begun = await client("POST", "user-authenticators/passkey/registration-options", {});
  const credential = await navigator.credentials.create({
    publicKey: creationOptions(begun.options),
  });
  return client("POST", "user-authenticators/passkey", {
    challengeId: begun.challengeId,
    registrationCredential: credentialJSON(credential),
  });
}

function finish(action, resultToken) {
  if (inWindow) {
    const message = JSON.stringify({ event: "AUTHSIGNAL_CLOSE_POPUP", token: resultToken });
    // Only a page on one of the tenant's origins may receive the token.
    for (const origin of action.origins) window.opener.postMessage(message, origin);
    say(t("actionDoneWindow"));
    return;
  }
  if (!action.redirectUrl) {
    say(t("actionDonePage"));
    return;
  }
  // Appended as it is (redirectUrl has no fragment): the app's own query stays byte for byte.
  const joiner = action.redirectUrl.includes("?") ? "&" : "?";
  window.location.assign(`${action.redirectUrl}${joiner}token=${encodeURIComponent(resultToken)}`);
}

async function start() {
  if (!token) {
    say(t("actionIncomplete"), true);
    return;
  }
  let action;
  try {
    action = await client("GET", "action");
  } catch (error) {
    say(error.status === 401 ? t("actionInvalid") : error.message, true);
    return;
  }
  intro.textContent = t(action.isEnrolled ? "actionSignInIntro" : "actionCreateIntro");
  button.textContent = t(action.isEnrolled ? "actionSignIn" : "actionCreate");
  button.hidden = false;
  button.addEventListener("click", async () => {
    button.disabled = true;
    say("");
    try {
      const done = action.isEnrolled ? await signIn() : await signUp();
      finish(action, done.accessToken);
    } catch (error) {
      const closed = error && (error.name === "AbortError" || error.name === "NotAllowedError");
      say(closed ? t("passkeyClosed") : error.message, true);
      button.disabled = false;
    }
  });
}

if (!window.PublicKeyCredential) say(t("unsupported"), true);
else start();
