// Type declarations for the Latchkey Web SDK, v1: the ES module latchkey.mjs and the classic
// script latchkey.js (which defines the global `latchkey`).

export interface LatchkeyConfig {
  /** The tenant id (public). */
  tenantId: string;
  /** Latchkey's /v1 base URL, e.g. "https://auth.example.com/v1". */
  baseUrl: string;
  /** Called when the server answers errorCode "expired_token" (track the action again). */
  onTokenExpired?: () => void;
}

/** Well-known error codes; the server may send others (its `errorCode`, passed through). */
export type ErrorCode =
  | "aborted"
  | "user_cancelled"
  | "credential_exists"
  | "security_error"
  | "webauthn_error"
  | "network_error"
  | "token_required"
  | "autofill_unavailable"
  | "conditional_create_unavailable"
  | "invalid_token"
  | "expired_token"
  | "add_authenticators_scope_required"
  | "credential_not_found"
  | (string & {});

export interface Failure {
  data?: undefined;
  /** A short error name: the server's `error`, or the browser's (e.g. "NotAllowedError"). */
  error: string;
  errorCode: ErrorCode;
  errorDescription?: string;
  /**
   * True when the ceremony was cancelled for another one (a pending autofill request when the
   * user presses the sign-in button); errorCode is then "aborted". Nothing to show the user.
   */
  aborted?: boolean;
}

export type Result<T> = { data: T; error?: undefined; errorCode?: undefined } | Failure;

export interface Availability {
  /** The browser has WebAuthn at all. */
  webauthn: boolean;
  /** A user-verifying platform authenticator (Touch ID, Windows Hello, ...). */
  platform: boolean;
  /** Passkey autofill (conditional mediation) on inputs with autocomplete="username webauthn". */
  autofill: boolean;
  /** Automatic passkey upgrades (conditional create), for signUp({ useAutoRegister: true }). */
  conditionalCreate: boolean;
}

export type PublicKeyCredentialHint = "security-key" | "client-device" | "hybrid";

export interface SignUpParams {
  /** The token your backend got from tracking an action. */
  token: string;
  username?: string;
  displayName?: string;
  authenticatorAttachment?: "platform" | "cross-platform";
  hints?: PublicKeyCredentialHint[];
  /**
   * Create the passkey silently with the password manager the user just signed in with
   * (conditional create). Resolves errorCode "conditional_create_unavailable" where the browser
   * cannot: show a visible "Create a passkey" button then.
   */
  useAutoRegister?: boolean;
}

export interface SignUpData {
  /** Send this to your backend, which validates it once. */
  token: string;
  isVerified: boolean;
  userId: string;
  userAuthenticatorId: string;
  userAuthenticator: Record<string, unknown>;
  username?: string;
  displayName?: string;
  /** The RegistrationResponseJSON sent to the server. */
  registrationResponse: Record<string, unknown>;
}

export interface SignInParams {
  /** A token from tracking an action for a known user (only their passkeys are offered). */
  token?: string;
  /** Names the sign-in action when there is no token (e.g. "sign-in"). */
  action?: string;
  /**
   * Offer passkeys in the autofill of an input with autocomplete="username webauthn"
   * (conditional mediation). A later button signIn() cancels it: this call then resolves
   * { aborted: true, errorCode: "aborted" }.
   */
  autofill?: boolean;
  /** Called once the user chose a passkey, while the server verifies it. */
  onVerificationStarted?: () => unknown;
}

export interface SignInData {
  /** Send this to your backend, which validates it once. */
  token: string;
  isVerified: boolean;
  userId: string;
  userAuthenticatorId: string;
  username?: string;
  displayName?: string;
  /** The AuthenticationResponseJSON sent to the server. */
  authenticationResponse: Record<string, unknown>;
}

/** Passkey ceremonies; reached as `new Latchkey(config).passkey`. */
export interface Passkey {
  signUp(params: SignUpParams): Promise<Result<SignUpData>>;
  signIn(params?: SignInParams): Promise<Result<SignInData>>;
  isAvailable(): Promise<Availability>;
}

export declare class Latchkey {
  constructor(config: LatchkeyConfig);
  readonly passkey: Passkey;
}

export declare const version: string;
export default Latchkey;

declare global {
  /** Set by the classic script latchkey.js. */
  var latchkey: { Latchkey: typeof Latchkey; version: string };
}
