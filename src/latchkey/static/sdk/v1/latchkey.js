/*
 * Latchkey Web SDK, v1. No build step: a classic script that defines `globalThis.latchkey`;
 * latchkey.mjs re-exports it as an ES module. Types: latchkey.d.ts.
 *
 *   const lk = new latchkey.Latchkey({ tenantId, baseUrl: "https://auth.example.com/v1" });
 *   const { data, error } = await lk.passkey.signIn({ autofill: true });
 *
 * Every call resolves (never rejects for server or ceremony failures) with { data } or
 * { error, errorCode, errorDescription }; a ceremony aborted for a newer one resolves with
 * { aborted: true, error: "aborted", errorCode: "aborted" }.
 */
(function () {
  "use strict";

  var VERSION = "1.0.0";

  // --- base64url (WebAuthn's binary fields travel as unpadded base64url) -------------------

  function toBase64url(buffer) {
    var bytes = new Uint8Array(buffer);
    var text = "";
    for (var i = 0; i < bytes.length; i++) text += String.fromCharCode(bytes[i]);
    return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function fromBase64url(value) {
    var base64 = value.replace(/-/g, "+").replace(/_/g, "/");
    base64 += "===".slice((base64.length + 3) % 4);
    var text = atob(base64);
    var bytes = new Uint8Array(text.length);
    for (var i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
    return bytes.buffer;
  }

  // --- options JSON -> WebAuthn options, and credentials -> JSON ----------------------------

  function descriptors(list) {
    return (list || []).map(function (d) {
      return { type: d.type, id: fromBase64url(d.id), transports: d.transports };
    });
  }

  function creationOptions(json) {
    if (typeof PublicKeyCredential.parseCreationOptionsFromJSON === "function") {
      return PublicKeyCredential.parseCreationOptionsFromJSON(json);
    }
    var options = Object.assign({}, json);
    options.challenge = fromBase64url(json.challenge);
    options.user = Object.assign({}, json.user, { id: fromBase64url(json.user.id) });
    options.excludeCredentials = descriptors(json.excludeCredentials);
    return options;
  }

  function requestOptions(json) {
    if (typeof PublicKeyCredential.parseRequestOptionsFromJSON === "function") {
      return PublicKeyCredential.parseRequestOptionsFromJSON(json);
    }
    var options = Object.assign({}, json);
    options.challenge = fromBase64url(json.challenge);
    options.allowCredentials = descriptors(json.allowCredentials);
    return options;
  }

  function credentialJSON(credential) {
    if (typeof credential.toJSON === "function") return credential.toJSON();
    var response = credential.response;
    var json = {
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

  var ABORTED = { aborted: true, error: "aborted", errorCode: "aborted",
    errorDescription: "the ceremony was cancelled for a newer one" };

  // What the browser's WebAuthn errors mean to an app.
  function ceremonyFailure(err) {
    var name = err && err.name;
    if (name === "AbortError") return ABORTED;
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

  // A button press must cancel a pending autofill (conditional) request before it starts its
  // own: browsers allow one navigator.credentials call at a time.
  function Ceremonies() {
    this.controller = null;
  }

  Ceremonies.prototype.start = function () {
    if (this.controller) {
      var reason;
      try {
        reason = new DOMException("Cancelled for a newer WebAuthn ceremony", "AbortError");
      } catch (e) {
        reason = new Error("Cancelled for a newer WebAuthn ceremony");
        reason.name = "AbortError";
      }
      this.controller.abort(reason);
    }
    this.controller = new AbortController();
    return this.controller.signal;
  };

  Ceremonies.prototype.finish = function (signal) {
    if (this.controller && this.controller.signal === signal) this.controller = null;
  };

  // --- the client API -------------------------------------------------------------------------

  function Api(tenantId, baseUrl, onTokenExpired) {
    this.tenantId = tenantId;
    this.baseUrl = baseUrl.replace(/\/+$/, "");
    this.onTokenExpired = onTokenExpired;
  }

  Api.prototype.headers = function (token) {
    var auth = token
      ? "Bearer " + token
      : "Basic " + btoa(encodeURIComponent(this.tenantId));
    return { "Content-Type": "application/json", Authorization: auth };
  };

  Api.prototype.call = function (method, path, body, token) {
    var self = this;
    return fetch(this.baseUrl + path, {
      method: method,
      headers: this.headers(token),
      body: body === undefined ? undefined : JSON.stringify(body),
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (json) {
        if (response.ok) return { data: json };
        var result = failure(json.errorCode || "http_" + response.status,
          json.errorDescription || response.statusText, json.error);
        if (result.errorCode === "expired_token" && self.onTokenExpired) self.onTokenExpired();
        return result;
      });
    }, function (err) {
      return failure("network_error", "cannot reach Latchkey: " + err.message);
    });
  };

  // --- the Signal API (tells the passkey provider what the server knows) --------------------

  function signal(name, detail) {
    var fn = window.PublicKeyCredential && PublicKeyCredential[name];
    if (typeof fn !== "function") return;
    try {
      Promise.resolve(fn.call(PublicKeyCredential, detail)).catch(function () {});
    } catch (e) {
      // Signals are hints; a provider refusing one changes nothing for the app.
    }
  }

  // --- passkeys -------------------------------------------------------------------------------

  function Passkey(api) {
    this.api = api;
    this.ceremonies = new Ceremonies();
  }

  Passkey.prototype.isAvailable = function () {
    if (!window.PublicKeyCredential) {
      return Promise.resolve({ webauthn: false, platform: false, autofill: false,
        conditionalCreate: false });
    }
    var capabilities = typeof PublicKeyCredential.getClientCapabilities === "function"
      ? PublicKeyCredential.getClientCapabilities().catch(function () { return {}; })
      : Promise.resolve({});
    var platform = PublicKeyCredential.isUserVerifyingPlatformAuthenticatorAvailable()
      .catch(function () { return false; });
    var autofill = typeof PublicKeyCredential.isConditionalMediationAvailable === "function"
      ? PublicKeyCredential.isConditionalMediationAvailable().catch(function () { return false; })
      : Promise.resolve(false);
    return Promise.all([capabilities, platform, autofill]).then(function (found) {
      return {
        webauthn: true,
        platform: Boolean(found[1]),
        autofill: Boolean(found[2]),
        conditionalCreate: Boolean(found[0] && found[0].conditionalCreate),
      };
    });
  };

  Passkey.prototype.signUp = function (params) {
    var self = this;
    params = params || {};
    if (!params.token) {
      return Promise.resolve(failure("token_required",
        "signUp needs the token your backend got from tracking an action"));
    }
    var precheck = params.useAutoRegister
      ? this.isAvailable().then(function (found) { return found.conditionalCreate; })
      : Promise.resolve(true);
    return precheck.then(function (possible) {
      if (!possible) {
        return failure("conditional_create_unavailable",
          "this browser cannot create a passkey automatically; offer a button instead");
      }
      return self.api.call("POST", "/client/user-authenticators/passkey/registration-options", {
        username: params.username,
        displayName: params.displayName,
        authenticatorAttachment: params.authenticatorAttachment,
      }, params.token).then(function (begun) {
        return begun.data ? self._create(begun.data, params) : begun;
      });
    });
  };

  Passkey.prototype._create = function (begun, params) {
    var self = this;
    var json = Object.assign({}, begun.options);
    if (params.hints) json.hints = params.hints;
    var signal_ = this.ceremonies.start();
    var request = { publicKey: creationOptions(json), signal: signal_ };
    if (params.useAutoRegister) request.mediation = "conditional";
    return navigator.credentials.create(request).then(function (credential) {
      self.ceremonies.finish(signal_);
      var registrationResponse = credentialJSON(credential);
      return self.api.call("POST", "/client/user-authenticators/passkey", {
        registrationCredential: registrationResponse,
        challengeId: begun.challengeId,
        conditionalCreate: Boolean(params.useAutoRegister),
      }, params.token).then(function (done) {
        if (!done.data) return done;
        signal("signalCurrentUserDetails", {
          rpId: json.rp.id, userId: json.user.id, name: json.user.name,
          displayName: json.user.displayName,
        });
        return { data: {
          token: done.data.accessToken,
          isVerified: done.data.isVerified,
          userId: done.data.userId,
          userAuthenticatorId: done.data.userAuthenticatorId,
          userAuthenticator: done.data.userAuthenticator,
          registrationResponse: registrationResponse,
        } };
      });
    }, function (err) {
      self.ceremonies.finish(signal_);
      return ceremonyFailure(err);
    });
  };

  Passkey.prototype.signIn = function (params) {
    var self = this;
    params = params || {};
    var ready = params.autofill
      ? this.isAvailable().then(function (found) { return found.autofill; })
      : Promise.resolve(true);
    return ready.then(function (possible) {
      if (!possible) {
        return failure("autofill_unavailable", "this browser has no passkey autofill");
      }
      var challenge = params.action && !params.token
        ? self.api.call("POST", "/client/challenge", { action: params.action })
        : Promise.resolve({ data: {} });
      return challenge.then(function (made) {
        if (!made.data) return made;
        return self.api.call("POST",
          "/client/user-authenticators/passkey/authentication-options",
          { challengeId: made.data.challengeId }, params.token)
          .then(function (begun) { return begun.data ? self._get(begun.data, params) : begun; });
      });
    });
  };

  Passkey.prototype._get = function (begun, params) {
    var self = this;
    var signal_ = this.ceremonies.start();
    var request = { publicKey: requestOptions(begun.options), signal: signal_ };
    if (params.autofill) request.mediation = "conditional";
    return navigator.credentials.get(request).then(function (credential) {
      self.ceremonies.finish(signal_);
      if (params.onVerificationStarted) params.onVerificationStarted();
      var authenticationResponse = credentialJSON(credential);
      return self.api.call("POST", "/client/verify/passkey", {
        authenticationCredential: authenticationResponse,
        challengeId: begun.challengeId,
      }, params.token).then(function (done) {
        var rpId = begun.options.rpId || location.hostname;
        if (!done.data) {
          // The server no longer knows this passkey: let the provider hide or remove it.
          if (done.errorCode === "credential_not_found") {
            signal("signalUnknownCredential", { rpId: rpId, credentialId: credential.id });
          }
          return done;
        }
        var userHandle = authenticationResponse.response.userHandle;
        if (userHandle && done.data.username) {
          signal("signalCurrentUserDetails", {
            rpId: rpId, userId: userHandle, name: done.data.username,
            displayName: done.data.userDisplayName || done.data.username,
          });
        }
        return { data: {
          token: done.data.accessToken,
          isVerified: done.data.isVerified,
          userId: done.data.userId,
          userAuthenticatorId: done.data.userAuthenticatorId,
          username: done.data.username,
          displayName: done.data.userDisplayName,
          authenticationResponse: authenticationResponse,
        } };
      });
    }, function (err) {
      self.ceremonies.finish(signal_);
      return ceremonyFailure(err);
    });
  };

  // --- entry point ----------------------------------------------------------------------------

  function Latchkey(config) {
    if (!config || !config.tenantId || !config.baseUrl) {
      throw new TypeError("new Latchkey({ tenantId, baseUrl }) needs both values");
    }
    this.passkey = new Passkey(new Api(config.tenantId, config.baseUrl, config.onTokenExpired));
  }

  globalThis.latchkey = { Latchkey: Latchkey, version: VERSION };
})();
