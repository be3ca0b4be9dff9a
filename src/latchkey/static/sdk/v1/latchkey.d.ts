// Type declarations for the Latchkey Web SDK, v1 (latchkey.mjs and the classic latchkey.js).

export interface LatchkeyConfig {
  /** The tenant id (public). */
  tenantId: string;
  /** Latchkey's /v1 base URL, e.g. "https://auth.example.com/v1". */
  baseUrl: string;
  /** Called when the server answers errorCode "expired_token". */
  onTokenExpired?: () => void;
}

export interface Failure {
  data?: undefined;
  error: string;
  errorCode: string;
  errorDescription?: string;
  /** True when the ceremony was cancelled for a newer one (autofill giving way to a button). */
  aborted?: boolean;
}

export type Result<T> = { data: T; error?: undefined; errorCode?: undefined } | Failure;

export interface Availability {
  webauthn: boolean;
  /** A user-verifying platform authenticator (Touch ID, Windows Hello, ...). */
  platform: boolean;
  /** Passkey autofill (conditional mediation) on inputs with autocomplete="username webauthn". */
  autofill: boolean;
  /** Automatic passkey upgrades (conditional create). */
  conditionalCreate: boolean;
}

export interface SignUpParams {
  /** The token your backend got from tracking an action. */
  token: string;
  username?: string;
  displayName?: string;
  authenticatorAttachment?: "platform" | "cross-platform";
  hints?: Array<"security-key" | "client-device" | "hybrid">;
  /** Create the passkey silently after a password sign-in, where the browser can. */
  useAutoRegister?: boolean;
}

export interface SignUpData {
  /** Send this to your backend, which validates it once. */
  token: string;
  isVerified: boolean;
  userId: string;
  userAuthenticatorId: string;
  userAuthenticator: Record<string, unknown>;
  registrationResponse: Record<string, unknown>;
}

export interface SignInParams {
  /** A token from tracking an action for a known user. */
  token?: string;
  /** Names the sign-in (default "sign-in") when there is no token. */
  action?: string;
  /** Offer passkeys in the autofill of an input with autocomplete="username webauthn". */
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
  authenticationResponse: Record<string, unknown>;
}

export declare class Passkey {
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
