// npm oauth4webapi 3, unmodified: RFC 8414 discovery, the code flow with PKCE, the ID token,
// the access token validated as a resource server does (RFC 9068), userinfo, revocation of the
// access token (userinfo's WWW-Authenticate challenge after it) and of the refresh token.
import * as oauth from 'oauth4webapi'
import { ask, done, refused } from './steps.mjs'

const { issuer, clientId, redirectUri, audience } = JSON.parse(process.argv[2])
const insecure = { [oauth.allowInsecureRequests]: true } // the test server is http://localhost
const issuerUrl = new URL(issuer)
const as = await oauth
  .discoveryRequest(issuerUrl, { algorithm: 'oauth2', ...insecure })
  .then((response) => oauth.processDiscoveryResponse(issuerUrl, response))
const client = { client_id: clientId }
const auth = oauth.None()
const verifier = oauth.generateRandomCodeVerifier()
const state = oauth.generateRandomState()
const nonce = oauth.generateRandomNonce()
const url = new URL(as.authorization_endpoint)
for (const [key, value] of Object.entries({
  client_id: clientId,
  redirect_uri: redirectUri,
  response_type: 'code',
  scope: 'openid email offline_access',
  code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
  code_challenge_method: 'S256',
  state,
  nonce,
})) {
  url.searchParams.set(key, value)
}
const callback = await ask({ authorize: url.href })
const params = oauth.validateAuthResponse(as, client, new URL(callback), state)
const response = await oauth.authorizationCodeGrantRequest(
  as, client, auth, params, redirectUri, verifier,
  { ...insecure, additionalParameters: { resource: audience } },
)
const tokens = await oauth.processAuthorizationCodeResponse(as, client, response, {
  expectedNonce: nonce,
  requireIdToken: true,
})
const claims = oauth.getValidatedIdTokenClaims(tokens)
const api = new Request('https://api.example.com/orders', {
  headers: { authorization: `Bearer ${tokens.access_token}` },
})
const accessClaims = await oauth.validateJwtAccessToken(as, api, audience, insecure)

const userInfo = async (token) =>
  oauth.processUserInfoResponse(
    as, client, claims.sub, await oauth.userInfoRequest(as, client, token, insecure),
  )
const info = await userInfo(tokens.access_token)
await oauth.processRevocationResponse(
  await oauth.revocationRequest(as, client, auth, tokens.access_token, insecure),
)
const revokedAccess = await refused(() => userInfo(tokens.access_token))

const refresh = async (token) =>
  oauth.processRefreshTokenResponse(
    as, client, await oauth.refreshTokenGrantRequest(as, client, auth, token, insecure),
  )
const refreshed = await refresh(tokens.refresh_token)
await oauth.processRevocationResponse(
  await oauth.revocationRequest(as, client, auth, refreshed.refresh_token, insecure),
)
const afterRevocation = await refused(() => refresh(refreshed.refresh_token))
done({ metadata: as, claims, accessClaims, info, revokedAccess, afterRevocation })
