"""The hosted pages' script messages, and the words for the error codes an end user can meet
there. The page renders them, translated, into a JSON data block (templates/hosted/base.html):
the scripts carry no English of their own, and the CSP still forbids inline script."""

from __future__ import annotations

from latchkey.i18n import N_, Translator

MESSAGES = {
    "passkeyClosed": N_("The passkey prompt was closed. Try again when you are ready."),
    "failed": N_("Something went wrong on our side. Wait a moment, then try again."),
    "passkeyUnknown": N_(
        "This passkey is no longer registered here. Use another passkey, or reset your passkey."
    ),
    "signedIn": N_("Signed in. Taking you back…"),
    "waiting": N_("Waiting for your passkey…"),
    "waitingFor": N_(
        "Choose your passkey in the window your browser opened. No passkey for this account "
        "on this device? Close that window to see what else you can do."
    ),
    "noPasskeyUsed": N_(
        "No passkey was used. If you have no account yet, create one. If you lost your "
        "passkey, reset it with the link below."
    ),
    "identifierMissing": N_("Type what you sign in with first, then press Continue."),
    "signedInPassword": N_("Signed in with your password."),
    "passkeyCreated": N_("Passkey created. Taking you back…"),
    "botCheck": N_("Checking that you are not a bot…"),
    "botCheckFailed": N_("The check that you are not a bot did not finish. Try again."),
    "creatingPasskey": N_("Creating your passkey…"),
    "accountCreated": N_("Account created. Taking you back…"),
    "recoveryConfirmed": N_("Confirmed: this is your account."),
    "renamed": N_("Passkey renamed."),
    "emailConfirmed": N_("Your e-mail address is confirmed. Taking you back…"),
    "verifyOtherBrowser": N_(
        "Open this link in the browser you signed up with, or type the code there."
    ),
    "confirmDelete": N_("Delete this passkey? You will not be able to sign in with it again."),
    "unsupported": N_(
        "This browser does not support passkeys. Open this page in an up-to-date browser."
    ),
    "actionDoneWindow": N_("Done. You can close this window."),
    "actionDonePage": N_("Done. You can close this page."),
    "actionIncomplete": N_("This link is incomplete. Open it from the app again."),
    "actionInvalid": N_("This link does not work any more. Go back to the app and start again."),
    "actionSignInIntro": N_("Sign in with your passkey to continue."),
    "actionCreateIntro": N_(
        "Create a passkey to continue: you will use your fingerprint, face or screen lock."
    ),
    "actionSignIn": N_("Sign in with a passkey"),
    "actionCreate": N_("Create a passkey"),
}

# What the pool endpoints' error codes mean to the person in front of the page, with what to
# do next. A code not listed here shows the server's own (English) message.
ERRORS = {
    "rate_limited": N_("Too many attempts in a short time. Wait a minute, then try again."),
    "invalid_request": N_("Something in the form is not right. Check it, then try again."),
    "invalid_credentials": N_(
        "This password is not right for this account. Check it, or sign in with a passkey."
    ),
    "password_disabled": N_("This service does not use passwords. Sign in with a passkey."),
    "last_passkey": N_("This is your only passkey, so it stays. Add another passkey first."),
    "flow_cookie_missing": N_(
        "This page was opened in another browser or its time ran out. Reload the page and "
        "start again."
    ),
    "flow_mismatch": N_("This page belongs to another sign-in. Reload it and start again."),
    "flow_expired": N_("This page was open too long. Reload it and start again."),
    "flow_used": N_("This step is already done. Reload the page to start again."),
    "bot_check_failed": N_("The check that you are not a bot failed. Try again."),
    "bot_check_required": N_("The check that you are not a bot did not run. Try again."),
    "bot_check_expired": N_("The check that you are not a bot expired. Try again."),
    "bot_check_replayed": N_("The check that you are not a bot was already used. Try again."),
    "self_registration_disabled": N_(
        "This service does not accept new accounts here. Ask its administrator for an invitation."
    ),
    "identifier_taken": N_(
        "An account with these details already exists. Sign in instead, or reset your "
        "passkey if you lost it."
    ),
    "recovery_code_invalid": N_(
        "This code is not right. Check the latest mail we sent, or ask for a new code."
    ),
    "recovery_code_expired": N_(
        "This code has expired. Ask for a new code: it works for 15 minutes."
    ),
    "recovery_attempts_exceeded": N_(
        "Too many wrong codes. Ask for a new code and use the latest mail we sent."
    ),
    "passkey_limit_reached": N_(
        "You have as many passkeys as this account may hold. Delete one you no longer use first."
    ),
    "credential_exists": N_("This passkey is already registered. Use it to sign in."),
    "credential_not_found": N_(
        "This passkey is no longer registered here. Use another passkey, or reset your passkey."
    ),
    "user_disabled": N_("This account is disabled. Ask the service's administrator."),
    "verification_failed": N_(
        "Your passkey could not be checked. Try again, or use another passkey."
    ),
    "challenge_expired": N_("This took too long. Try again."),
    "not_signed_in": N_("You are signed out. Sign in again."),
    "email_unverified": N_(
        "Confirm your e-mail address first, with the code or link in the mail we sent when "
        "you signed up."
    ),
    "service_unavailable": N_("The service is busy. Wait a moment, then try again."),
}


# The bot-check widget's own words (ALTCHA's `strings` attribute); its footer, markup, stays.
ALTCHA = {
    "label": N_("I'm not a robot"),
    "verifying": N_("Checking…"),
    "verified": N_("Checked"),
    "waitAlert": N_("Checking that you are not a bot. Please wait."),
    "verificationRequired": N_("Tick the box to show that you are not a bot."),
    "error": N_("The check that you are not a bot failed. Try again."),
    "expired": N_("The check that you are not a bot expired. Try again."),
}


def for_page(active: Translator) -> dict[str, dict[str, str]]:
    """The JSON the page hands its scripts."""
    return {
        "messages": {key: active.gettext(text) for key, text in MESSAGES.items()},
        "errors": {code: active.gettext(text) for code, text in ERRORS.items()},
        "altcha": {key: active.gettext(text) for key, text in ALTCHA.items()},
    }
