// Latchkey hosted pages: sign-in (button, autofill, identifier-first, password + passkey
// offer), sign-up, recovery and account, over the pool's JSON endpoints. No framework, no
// build step; page data comes from data-* attributes on <main id="app"> (the CSP forbids
// inline scripts).

import { creationOptions, credentialJSON, requestOptions } from "/static/shared/webauthn-json.js";

const app = document.getElementById("app");
const page = app.dataset;
const base = page.base;
const statusLine = document.getElementById("status");
// The page's messages in its language (i18n/script_messages.py), from a JSON data block.
const catalog = JSON.parse(document.getElementById("page-messages").textContent);
const t = (key) => catalog.messages[key] || key;

// --- small helpers -------------------------------------------------------------------------

function say(message, isError = false) {
  statusLine.textContent = message;
  statusLine.classList.toggle("error", isError);
}

class ApiError extends Error {
  constructor(status, body) {
    const code = body && body.error_code;
    super(catalog.errors[code] || (body && body.error) || t("failed"));
    this.status = status;
    this.code = body && body.error_code;
  }
}

async function api(method, path, body) {
  const response = await fetch(`${base}/${path}`, {
    method,
    credentials: "same-origin",
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const answer = await response.json().catch(() => null);
  if (!response.ok) throw new ApiError(response.status, answer);
  return answer;
}

const post = (path, body = {}) => api("POST", path, body);

// Milliseconds since this page was loaded: the adoption funnel's time to sign in.
const sinceLoad = () => Math.round(performance.now());

// A milestone of the adoption funnel (page loaded, passkey offer shown or declined). Sent with
// keepalive, so it arrives even when the page goes on to another; its failure changes nothing.
function report(milestone, flowId = null) {
  fetch(`${base}/signin/milestone`, {
    method: "POST",
    credentials: "same-origin",
    keepalive: true,
    headers: { "content-type": "application/json" },
    body: JSON.stringify(flowId ? { milestone, flow_id: flowId } : { milestone }),
  }).catch(() => {});
}

function cancelled(error) {
  return error && (error.name === "AbortError" || error.name === "NotAllowedError");
}

function fail(error) {
  if (cancelled(error)) say(t("passkeyClosed"), true);
  else say(error.message || String(error), true);
}

function busy(button, on) {
  if (!button) return;
  button.disabled = on;
  button.setAttribute("aria-busy", on ? "true" : "false");
}

// Signal API (WebAuthn L3 §5.1.10): tell the passkey provider what this RP knows.
async function signalUnknown(credentialId) {
  if (PublicKeyCredential.signalUnknownCredential) {
    await PublicKeyCredential.signalUnknownCredential({ rpId: page.rpId, credentialId }).catch(
      () => {},
    );
  }
}

async function signalAccount(account) {
  if (!account || !account.user || !account.user.user_handle) return;
  const userId = account.user.user_handle;
  if (PublicKeyCredential.signalAllAcceptedCredentials) {
    await PublicKeyCredential.signalAllAcceptedCredentials({
      rpId: page.rpId,
      userId,
      allAcceptedCredentialIds: account.passkeys.map((p) => p.credential_id),
    }).catch(() => {});
  }
  if (PublicKeyCredential.signalCurrentUserDetails) {
    await PublicKeyCredential.signalCurrentUserDetails({
      rpId: page.rpId,
      userId,
      name: account.user.name || account.user.email || "",
      displayName: account.user.display_name || account.user.name || "",
    }).catch(() => {});
  }
}

function go(url) {
  window.location.assign(url);
}

// --- ceremonies ----------------------------------------------------------------------------

async function createPasskey(options, flowId, extra = {}) {
  const credential = await navigator.credentials.create({
    publicKey: creationOptions(options.publicKey),
    ...extra,
  });
  return post(`register/webauthn/finish?flow_id=${encodeURIComponent(flowId)}`,
    credentialJSON(credential));
}

async function finishSignIn(credential, flowId) {
  try {
    return await post(`login/webauthn/finish?flow_id=${encodeURIComponent(flowId)}`,
      credentialJSON(credential));
  } catch (error) {
    if (error.code === "credential_not_found") {
      await signalUnknown(credential.id);
      error.message = t("passkeyUnknown");
    }
    throw error;
  }
}

// --- sign-in -------------------------------------------------------------------------------

function signInPage() {
  let flowId = page.flow || null;
  let autofill = null;
  const button = document.getElementById("passkey-button");
  const form = document.getElementById("identifier-form");
  const identifier = document.getElementById("identifier");

  async function options(body) {
    const answer = await post("login/webauthn/options", {
      ...body,
      flow_id: flowId,
      since_load_ms: sinceLoad(),
    });
    flowId = answer.flow_id;
    return answer;
  }

  async function signIn(body, mediation) {
    const begun = await options(body);
    const credential = await navigator.credentials.get({
      publicKey: requestOptions(begun.publicKey),
      ...mediation,
    });
    const done = await finishSignIn(credential, flowId);
    say(t("signedIn"));
    go(done.redirect_to);
  }

  async function startAutofill() {
    const available = window.PublicKeyCredential && PublicKeyCredential.isConditionalMediationAvailable
      && await PublicKeyCredential.isConditionalMediationAvailable();
    if (!available) return;
    autofill = new AbortController();
    const signal = autofill.signal;
    try {
      await signIn({ prompt: "autofill" }, { mediation: "conditional", signal });
    } catch (error) {
      // Autofill is not something the user started: only the server's refusals are news.
      if (!signal.aborted && error instanceof ApiError) fail(error);
    }
  }

  function stopAutofill() {
    if (autofill) autofill.abort();
    autofill = null;
  }

  button.addEventListener("click", async () => {
    stopAutofill();
    busy(button, true);
    say(t("waiting"));
    try {
      await signIn({ prompt: "button" });
    } catch (error) {
      fail(error);
      startAutofill();
    } finally {
      busy(button, false);
    }
  });

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const submitter = event.submitter;
    if (submitter && submitter.id === "password-submit") {
      await passwordSignIn(submitter);
      return;
    }
    if (!identifier.value.trim()) {
      say(t("identifierMissing"), true);
      identifier.focus();
      return;
    }
    stopAutofill();
    busy(submitter, true);
    // Whether an account has this identifier is not told (no enumeration): say what the
    // browser's window is for, and after a cancel what else there is.
    say(t("waitingFor"));
    try {
      await signIn({ identifier: identifier.value.trim() });
    } catch (error) {
      if (cancelled(error)) say(t("noPasskeyUsed"), true);
      else fail(error);
      startAutofill();
    } finally {
      busy(submitter, false);
    }
  });

  async function passwordSignIn(submitter) {
    stopAutofill();
    busy(submitter, true);
    try {
      const done = await post("login/password", {
        identifier: identifier.value.trim(),
        password: document.getElementById("password").value,
        flow_id: flowId,
        since_load_ms: sinceLoad(),
      });
      await offerPasskey(done.redirect_to);
    } catch (error) {
      fail(error);
    } finally {
      busy(submitter, false);
    }
  }

  if (flowId) report("page_loaded", flowId);
  startAutofill();
}

// After a password sign-in: offer a passkey with a button, and where the browser can, also
// make one quietly (conditional create) in the background; pressing the button cancels that.
async function offerPasskey(next) {
  const offer = document.getElementById("offer");
  const create = document.getElementById("offer-create");
  say(t("signedInPassword"));
  offer.hidden = false;
  report("offer_shown");
  const skip = document.getElementById("offer-skip");
  skip.href = next;
  skip.addEventListener("click", () => report("offer_declined"));
  create.focus();
  let quiet = null;
  const capabilities = PublicKeyCredential.getClientCapabilities
    ? await PublicKeyCredential.getClientCapabilities().catch(() => ({}))
    : {};
  if (capabilities.conditionalCreate) {
    quiet = new AbortController();
    const signal = quiet.signal;
    post("account/passkeys?offer=true")
      .then((begun) => createPasskey(begun, begun.flow_id, { mediation: "conditional", signal }))
      .then(() => go(next), () => {}); // not made quietly: the button stays
  }
  create.addEventListener("click", async () => {
    if (quiet) quiet.abort();
    busy(create, true);
    try {
      const begun = await post("account/passkeys?offer=true");
      await createPasskey(begun, begun.flow_id);
      say(t("passkeyCreated"));
      go(next);
    } catch (error) {
      fail(error);
    } finally {
      busy(create, false);
    }
  });
}

// The bot check's solution: the ALTCHA widget's payload, solving first if it has not yet.
async function botSolution(form) {
  const widget = form.querySelector("altcha-widget");
  if (!widget) return null;
  const ready = () => new FormData(form).get("altcha");
  if (ready()) return ready();
  say(t("botCheck"));
  await new Promise((resolve, reject) => {
    widget.addEventListener("statechange", (event) => {
      const state = event.detail && event.detail.state;
      if (state === "verified") resolve();
      if (state === "error" || state === "expired") reject(new Error(t("botCheckFailed")));
    });
    // auto="onfocus" may have started it already: only start it when it has not.
    const state = typeof widget.getState === "function" ? widget.getState() : "unverified";
    if (state !== "verifying" && typeof widget.verify === "function") widget.verify();
  });
  return ready();
}

// --- sign-up -------------------------------------------------------------------------------

function signUpPage() {
  const form = document.getElementById("signup-form");
  if (!form) return;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const submit = document.getElementById("signup-submit");
    const data = new FormData(form);
    const profile = {};
    for (const [key, value] of data.entries()) {
      if (key !== "altcha" && String(value).trim()) profile[key] = String(value).trim();
    }
    busy(submit, true);
    try {
      const altcha = await botSolution(form);
      say(t("creatingPasskey"));
      const begun = await post("register/webauthn/begin", {
        profile,
        altcha,
        flow_id: page.flow || null,
      });
      const done = await createPasskey(begun, begun.flow_id);
      say(t("accountCreated"));
      go(done.redirect_to);
    } catch (error) {
      fail(error);
    } finally {
      busy(submit, false);
    }
  });
}

// --- recovery ------------------------------------------------------------------------------

function recoveryPage() {
  const first = document.getElementById("recovery-form");
  const codeForm = document.getElementById("code-form");
  const newPasskey = document.getElementById("new-passkey");
  let flowId = null;

  function readyForPasskey(recovered) {
    first.hidden = true;
    codeForm.hidden = true;
    newPasskey.hidden = false;
    say(t("recoveryConfirmed"));
    const button = document.getElementById("new-passkey-button");
    button.focus();
    button.addEventListener("click", async () => {
      busy(button, true);
      try {
        const begun = await post("register/webauthn/begin", { flow_id: recovered.flow_id });
        const done = await createPasskey(begun, recovered.flow_id);
        go(done.redirect_to);
      } catch (error) {
        fail(error);
      } finally {
        busy(button, false);
      }
    });
  }

  first.addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = new FormData(first);
    const submit = document.getElementById("recovery-submit");
    busy(submit, true);
    try {
      const altcha = await botSolution(first);
      const begun = await post("recovery/begin", {
        identifier: String(data.get("identifier") || "").trim(),
        altcha,
        login_flow_id: page.loginFlow || undefined,
        flow_id: page.flow || undefined,
      });
      flowId = begun.flow_id;
      first.hidden = true;
      codeForm.hidden = false;
      say(""); // the code form says what happened: once
      document.getElementById("code").focus();
    } catch (error) {
      fail(error);
    } finally {
      busy(submit, false);
    }
  });

  codeForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const submit = document.getElementById("code-submit");
    busy(submit, true);
    try {
      const code = document.getElementById("code").value.trim();
      readyForPasskey(await post("recovery/verify", { code, flow_id: flowId }));
    } catch (error) {
      fail(error);
    } finally {
      busy(submit, false);
    }
  });

  if (page.linkToken) {
    post("recovery/link", { token: page.linkToken }).then(readyForPasskey, fail);
  }
}

// --- e-mail verification -------------------------------------------------------------------

function verifyPage() {
  const form = document.getElementById("verify-form");
  const done = (answer) => {
    say(t("emailConfirmed"));
    go(answer.redirect_to);
  };
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const submit = document.getElementById("verify-submit");
    busy(submit, true);
    try {
      const code = document.getElementById("code").value.trim();
      done(await post("verification/verify", { code, flow_id: page.flow || null }));
    } catch (error) {
      fail(error);
    } finally {
      busy(submit, false);
    }
  });
  if (page.linkToken) {
    post("verification/link", { token: page.linkToken }).then(done, (error) => {
      if (error.code === "flow_cookie_missing" || error.code === "flow_mismatch") {
        error.message = t("verifyOtherBrowser");
      }
      fail(error);
    });
  }
}

// --- account -------------------------------------------------------------------------------

async function accountPage() {
  const account = await api("GET", "account/passkeys").catch(() => null);
  await signalAccount(account);

  for (const form of document.querySelectorAll(".rename-form")) {
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      try {
        await api("PATCH", `account/passkeys/${form.dataset.id}`, {
          name: new FormData(form).get("name"),
        });
        say(t("renamed"));
      } catch (error) {
        fail(error);
      }
    });
  }
  for (const button of document.querySelectorAll("button.delete")) {
    button.addEventListener("click", async () => {
      if (!window.confirm(t("confirmDelete"))) return;
      try {
        await api("DELETE", `account/passkeys/${button.dataset.id}`);
        window.location.reload();
      } catch (error) {
        fail(error);
      }
    });
  }
  const add = document.getElementById("add-passkey");
  add.addEventListener("click", async () => {
    busy(add, true);
    try {
      const begun = await post("account/passkeys");
      await createPasskey(begun, begun.flow_id);
      window.location.reload();
    } catch (error) {
      fail(error);
      busy(add, false);
    }
  });
  document.getElementById("sign-out").addEventListener("click", async () => {
    await post("logout").catch(() => {});
    go(`${base}/signin`);
  });
}

const pages = {
  signin: signInPage,
  signup: signUpPage,
  recovery: recoveryPage,
  verify: verifyPage,
  account: accountPage,
};
if (!window.PublicKeyCredential) {
  say(t("unsupported"), true);
} else if (pages[page.page]) {
  pages[page.page]();
}
