// npm openid-client 6, unmodified: discovery, the code flow with PKCE as a public client, the
// ID token checks, userinfo, a bad token, refresh, and revocation. The browser's part (the
// hosted sign-in) is done by the test, which answers with the callback URL.
import * as client from 'openid-client'
import { ask, done, refused } from './steps.mjs'

const { issuer, clientId, redirectUri, audience } = JSON.parse(process.argv[2])
// The test server is http://localhost: the library's own switch for that.
const config = await client.discovery(new URL(issuer), clientId, undefined, client.None(), {
  execute: [client.allowInsecureRequests],
})
const verifier = client.randomPKCECodeVerifier()
const state = client.randomState()
const nonce = client.randomNonce()
const url = client.buildAuthorizationUrl(config, {
  redirect_uri: redirectUri,
  scope: 'openid email profile offline_access',
  code_challenge: await client.calculatePKCECodeChallenge(verifier),
  code_challenge_method: 'S256',
  state,
  nonce,
})
const callback = await ask({ authorize: url.href })
const tokens = await client.authorizationCodeGrant(
  config,
  new URL(callback),
  { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce },
  { resource: audience },
)
const claims = tokens.claims()
const info = await client.fetchUserInfo(config, tokens.access_token, claims.sub)
const badToken = await refused(() => client.fetchUserInfo(config, 'x.y.z', claims.sub))
const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token)
await client.tokenRevocation(config, refreshed.refresh_token)
const afterRevocation = await refused(() => client.refreshTokenGrant(config, refreshed.refresh_token))
done({
  metadata: config.serverMetadata(),
  claims,
  accessToken: tokens.access_token,
  info,
  badToken,
  refreshedScope: refreshed.scope,
  afterRevocation,
})
