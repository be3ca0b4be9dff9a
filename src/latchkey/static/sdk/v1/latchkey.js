/*
 * Latchkey Web SDK, v1. No build step: a classic script that defines `globalThis.latchkey`;
 * latchkey.mjs re-exports it as an ES module. Types: latchkey.d.ts.
 *
 *   <script src="https://auth.example.com/sdk/v1/latchkey.js"></script>
 *   const lk = new latchkey.Latchkey({ tenantId, baseUrl: "https://auth.example.com/v1" });
 *   const { data, errorCode } = await lk.passkey.signIn({ autofill: true });
 *
 * Every call resolves (it never rejects for server or ceremony failures) with { data } or
 * { error, errorCode, errorDescription }. A ceremony cancelled for a newer one (the autofill
 * request when the user presses a sign-in button) resolves with
 * { aborted: true, error: "aborted", errorCode: "aborted" }.
 *
 * The wire protocol is the hosted vendor's client API (Authsignal's), so its browser SDK
 * works against Latchkey too.
 */
(function () {
  "use strict";

  const VERSION = "1.1.0";

  // --- base64url (WebAuthn's binary fields travel as unpadded base64url) -------------------

  function toBase64url(buffer) {
    const bytes = new Uint8Array(buffer);
    let text = "";
    for (let i = 0; i < bytes.length; i++) text += String.fromCharCode(bytes[i]);
    return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function fromBase64url(value) {
    let base64 = value.replace(/-/g, "+").replace(/_/g, "/");
    base64 += "===".slice((base64.length + 3) % 4);
    const text = atob(base64);
    const bytes = new Uint8Array(text.length);
    for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
    return bytes.buffer;
  }

  // --- options JSON -> WebAuthn options, and credentials -> JSON ----------------------------
  // The browser's own parsers and toJSON() where it has them (WebAuthn L3), else by hand.

  function descriptors(list) {
    return (list || []).map((d) => ({ type: d.type, id: fromBase64url(d.id),
      transports: d.transports }));
  }

  function creationOptions(json) {
    if (typeof PublicKeyCredential.parseCreationOptionsFromJSON === "function") {
      return PublicKeyCredential.parseCreationOptionsFromJSON(json);
    }
    return Object.assign({}, json, {
      challenge: fromBase64url(json.challenge),
      user: Object.assign({}, json.user, { id: fromBase64url(json.user.id) }),
      excludeCredentials: descriptors(json.excludeCredentials),
    });
  }

  function requestOptions(json) {
    if (typeof PublicKeyCredential.parseRequestOptionsFromJSON === "function") {
      return PublicKeyCredential.parseRequestOptionsFromJSON(json);
    }
    return Object.assign({}, json, {
      challenge: fromBase64url(json.challenge),
      allowCredentials: descriptors(json.allowCredentials),
    });
  }

  function credentialJSON(credential) {
    if (typeof credential.toJSON === "function") return credential.toJSON();
    const response = credential.response;
    const json = {
      id: credential.id,
      rawId: toBase64url(credential.rawId),
      type: credential.type,
      authenticatorAttachment: credential.authenticatorAttachment || undefined,
      clientExtensionResults: credential.getClientExtensionResults(),
      response: { clientDataJSON: toBase64url(response.clientDataJSON) },
    };
    if (response.attestationObject) {
      json.response.attestationObject = toBase64url(response.attestationObject);
      json.response.transports = response.getTransports ? response.getTransports() : [];
    } else {
      json.response.authenticatorData = toBase64url(response.authenticatorData);
      json.response.signature = toBase64url(response.signature);
      if (response.userHandle) json.response.userHandle = toBase64url(response.userHandle);
    }
    return json;
  }

  // --- results --------------------------------------------------------------------------------

  function failure(errorCode, description, error) {
    return { error: error || errorCode, errorCode: errorCode, errorDescription: description };
  }

  function aborted() {
    return { aborted: true, error: "aborted", errorCode: "aborted",
      errorDescription: "the ceremony was cancelled for another one" };
  }

  // What the browser's WebAuthn errors mean to an app.
  function ceremonyFailure(err) {
    const name = err && err.name;
    if (name === "AbortError") return aborted();
    if (name === "NotAllowedError") {
      return failure("user_cancelled", "the user cancelled, or no passkey was chosen in time",
        "NotAllowedError");
    }
    if (name === "InvalidStateError") {
      return failure("credential_exists", "this authenticator already holds a passkey here",
        "InvalidStateError");
    }
    if (name === "SecurityError") {
      return failure("security_error", "this page's origin may not use this RP ID",
        "SecurityError");
    }
    return failure("webauthn_error", (err && err.message) || String(err), name || "Error");
  }

  // --- one WebAuthn ceremony at a time --------------------------------------------------------
  // Browsers allow one navigator.credentials request at a time. A visible (modal) ceremony,
  // such as a button press, cancels whatever is pending, from the moment it is asked for (even
  // while the pending one is still fetching its options); a background (conditional) one, such
  // as autofill, replaces another background one but never cancels a visible one.

  class Ceremonies {
    constructor() {
      this.current = null;
    }

    begin(conditional) {
      const entry = { controller: new AbortController(), conditional: conditional };
      const pending = this.current;
      if (pending && conditional && !pending.conditional) {
        entry.controller.abort(abortReason());
        return entry;
      }
      if (pending) pending.controller.abort(abortReason());
      this.current = entry;
      return entry;
    }

    end(entry) {
      if (this.current === entry) this.current = null;
    }
  }

  function abortReason() {
    try {
      return new DOMException("Cancelled for another WebAuthn ceremony", "AbortError");
    } catch (e) {
      const reason = new Error("Cancelled for another WebAuthn ceremony");
      reason.name = "AbortError";
      return reason;
    }
  }

  // --- the client API -------------------------------------------------------------------------

  class Api {
    constructor(tenantId, baseUrl, onTokenExpired) {
      this.tenantId = tenantId;
      this.baseUrl = baseUrl.replace(/\/+$/, "");
      this.onTokenExpired = onTokenExpired;
    }

    headers(token) {
      // The vendor's form: Bearer <action token>, else Basic base64(tenantId) with no colon.
      const auth = token ? "Bearer " + token : "Basic " + btoa(encodeURIComponent(this.tenantId));
      return { "Content-Type": "application/json", Authorization: auth };
    }

    async call(method, path, body, token) {
      let response;
      try {
        response = await fetch(this.baseUrl + path, {
          method: method,
          headers: this.headers(token),
          body: body === undefined ? undefined : JSON.stringify(body),
        });
      } catch (err) {
        return failure("network_error", "cannot reach Latchkey: " + (err && err.message));
      }
      const json = await response.json().catch(() => ({}));
      if (response.ok) return { data: json };
      const result = failure(json.errorCode || "http_" + response.status,
        json.errorDescription || response.statusText, json.error);
      if (result.errorCode === "expired_token" && this.onTokenExpired) {
        try {
          this.onTokenExpired();
        } catch (e) {
          // The app's callback failing must not turn a result into a rejection.
        }
      }
      return result;
    }
  }

  // --- the Signal API (tells the passkey provider what the server knows) --------------------

  function canSignal(name) {
    return typeof PublicKeyCredential !== "undefined"
      && typeof PublicKeyCredential[name] === "function";
  }

  function signal(name, detail) {
    if (!canSignal(name)) return;
    try {
      Promise.resolve(PublicKeyCredential[name](detail)).catch(() => {});
    } catch (e) {
      // Signals are hints; a provider refusing one changes nothing for the app.
    }
  }

  // --- passkeys -------------------------------------------------------------------------------

  class Passkey {
    constructor(api) {
      this.api = api;
      this.ceremonies = new Ceremonies();
    }

    async isAvailable() {
      if (typeof PublicKeyCredential === "undefined" || !navigator.credentials) {
        return { webauthn: false, platform: false, autofill: false, conditionalCreate: false };
      }
      const quietly = (fn, fallback) => {
        if (typeof fn !== "function") return Promise.resolve(fallback);
        try {
          return Promise.resolve(fn.call(PublicKeyCredential)).catch(() => fallback);
        } catch (e) {
          return Promise.resolve(fallback);
        }
      };
      const [capabilities, platform, autofill] = await Promise.all([
        quietly(PublicKeyCredential.getClientCapabilities, {}),
        quietly(PublicKeyCredential.isUserVerifyingPlatformAuthenticatorAvailable, false),
        quietly(PublicKeyCredential.isConditionalMediationAvailable, false),
      ]);
      return {
        webauthn: true,
        platform: Boolean(platform),
        autofill: Boolean(autofill),
        conditionalCreate: Boolean(capabilities && capabilities.conditionalCreate),
      };
    }

    async signUp(params) {
      params = params || {};
      if (!params.token) {
        return failure("token_required",
          "signUp needs the token your backend got from tracking an action");
      }
      if (params.useAutoRegister && !(await this.isAvailable()).conditionalCreate) {
        return failure("conditional_create_unavailable",
          "this browser cannot create a passkey automatically; offer a button instead");
      }
      const entry = this.ceremonies.begin(Boolean(params.useAutoRegister));
      try {
        return await this._signUp(params, entry.controller.signal);
      } finally {
        this.ceremonies.end(entry);
      }
    }

    async _signUp(params, signal_) {
      if (signal_.aborted) return aborted();
      const begun = await this.api.call("POST",
        "/client/user-authenticators/passkey/registration-options", {
          username: params.username,
          displayName: params.displayName,
          authenticatorAttachment: params.authenticatorAttachment,
        }, params.token);
      if (!begun.data) return begun;
      if (signal_.aborted) return aborted();
      const json = Object.assign({}, begun.data.options);
      if (params.hints) json.hints = params.hints;
      const request = { publicKey: creationOptions(json), signal: signal_ };
      if (params.useAutoRegister) request.mediation = "conditional";
      let credential;
      try {
        credential = await navigator.credentials.create(request);
      } catch (err) {
        return ceremonyFailure(err);
      }
      const registrationResponse = credentialJSON(credential);
      const done = await this.api.call("POST", "/client/user-authenticators/passkey", {
        registrationCredential: registrationResponse,
        challengeId: begun.data.challengeId,
        conditionalCreate: Boolean(params.useAutoRegister),
      }, params.token);
      if (!done.data) return done;
      const rpId = (json.rp && json.rp.id) || location.hostname;
      this._signalAccepted(params.token, rpId, json.user.id, credential.id);
      return { data: {
        token: done.data.accessToken,
        isVerified: done.data.isVerified,
        userId: done.data.userId,
        userAuthenticatorId: done.data.userAuthenticatorId,
        userAuthenticator: done.data.userAuthenticator,
        username: json.user.name,
        displayName: json.user.displayName,
        registrationResponse: registrationResponse,
      } };
    }

    async signIn(params) {
      params = params || {};
      if (params.autofill && !(await this.isAvailable()).autofill) {
        return failure("autofill_unavailable", "this browser has no passkey autofill");
      }
      const entry = this.ceremonies.begin(Boolean(params.autofill));
      try {
        return await this._signIn(params, entry.controller.signal);
      } finally {
        this.ceremonies.end(entry);
      }
    }

    async _signIn(params, signal_) {
      if (signal_.aborted) return aborted();
      let challengeId;
      if (params.action && !params.token) {
        const made = await this.api.call("POST", "/client/challenge", { action: params.action });
        if (!made.data) return made;
        challengeId = made.data.challengeId;
        if (signal_.aborted) return aborted();
      }
      const begun = await this.api.call("POST",
        "/client/user-authenticators/passkey/authentication-options",
        { challengeId: challengeId }, params.token);
      if (!begun.data) return begun;
      if (signal_.aborted) return aborted();
      const request = { publicKey: requestOptions(begun.data.options), signal: signal_ };
      if (params.autofill) request.mediation = "conditional";
      let credential;
      try {
        credential = await navigator.credentials.get(request);
      } catch (err) {
        return ceremonyFailure(err);
      }
      if (params.onVerificationStarted) {
        try {
          params.onVerificationStarted();
        } catch (e) {
          // The app's callback failing must not lose the sign-in.
        }
      }
      const authenticationResponse = credentialJSON(credential);
      const done = await this.api.call("POST", "/client/verify/passkey", {
        authenticationCredential: authenticationResponse,
        challengeId: begun.data.challengeId,
      }, params.token);
      const rpId = begun.data.options.rpId || location.hostname;
      if (!done.data) {
        // The server no longer knows this passkey: let the provider hide or remove it. Only on
        // this code: a 404 can also mean an expired challenge, where the passkey is fine.
        if (done.errorCode === "credential_not_found") {
          signal("signalUnknownCredential", { rpId: rpId, credentialId: credential.id });
        }
        return done;
      }
      const userHandle = authenticationResponse.response.userHandle;
      if (userHandle && done.data.username) {
        signal("signalCurrentUserDetails", {
          rpId: rpId, userId: userHandle, name: done.data.username,
          displayName: done.data.userDisplayName || done.data.username,
        });
      }
      this._signalAccepted(params.token, rpId, userHandle, credential.id);
      return { data: {
        token: done.data.accessToken,
        isVerified: done.data.isVerified,
        userId: done.data.userId,
        userAuthenticatorId: done.data.userAuthenticatorId,
        username: done.data.username,
        displayName: done.data.userDisplayName,
        authenticationResponse: authenticationResponse,
      } };
    }

    // With an action token the SDK can read the user's whole list of passkeys, and tell the
    // provider which ones the server still accepts (the others get hidden). Only with the whole
    // list, and only if it holds the passkey just used: a partial list would hide good ones.
    // In the background: the app's result never waits for it.
    _signalAccepted(token, rpId, userHandle, credentialId) {
      if (!token || !userHandle || !canSignal("signalAllAcceptedCredentials")) return;
      this.api.call("GET", "/client/user-authenticators", undefined, token).then((listed) => {
        if (!Array.isArray(listed.data)) return;
        const ids = listed.data.map((a) => a && a.webauthnCredential
          && a.webauthnCredential.credentialId);
        if (!ids.every((id) => typeof id === "string" && id) || !ids.includes(credentialId)) {
          return;
        }
        signal("signalAllAcceptedCredentials",
          { rpId: rpId, userId: userHandle, allAcceptedCredentialIds: ids });
      }).catch(() => {});
    }
  }

  // --- entry point ----------------------------------------------------------------------------

  class Latchkey {
    constructor(config) {
      if (!config || !config.tenantId || !config.baseUrl) {
        throw new TypeError("new Latchkey({ tenantId, baseUrl }) needs both values");
      }
      this.passkey = new Passkey(new Api(config.tenantId, config.baseUrl, config.onTokenExpired));
    }
  }

  globalThis.latchkey = { Latchkey: Latchkey, version: VERSION };
})();
