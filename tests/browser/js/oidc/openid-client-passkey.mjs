// npm openid-client 6, unmodified, with the native passkey grant
// (urn:okta:params:oauth:grant-type:webauthn) through its genericGrantRequest: sign up and
// sign in as Auth0.Android / Auth0.swift do (the challenge calls are plain HTTP, as in those
// SDKs; the test's software authenticator answers them), the ID token checked by the library,
// claims by scope, userinfo, and revocation of the refresh token.
import * as client from 'openid-client'
import { ask, done, refused } from './steps.mjs'

const GRANT = 'urn:okta:params:oauth:grant-type:webauthn'
const { issuer, clientId, audience, email } = JSON.parse(process.argv[2])
const config = await client.discovery(new URL(issuer), clientId, undefined, client.None(), {
  execute: [client.allowInsecureRequests],
})

async function challenge(path, body) {
  const response = await fetch(new URL(path, issuer), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ client_id: clientId, ...body }),
  })
  return response.json()
}

const signup = await challenge('passkey/register', {
  user_profile: { email, name: 'Pat Example', given_name: 'Pat', nickname: 'pat' },
})
const created = await ask({ create: signup.authn_params_public_key })
const first = await client.genericGrantRequest(config, GRANT, {
  auth_session: signup.auth_session,
  authn_response: created,
  scope: 'openid email',
  audience,
})
const login = await challenge('passkey/challenge', {})
const assertion = await ask({ get: login.authn_params_public_key })
const second = await client.genericGrantRequest(config, GRANT, {
  auth_session: login.auth_session,
  authn_response: assertion,
  scope: 'openid profile offline_access',
})
const unregistered = await refused(() =>
  client.genericGrantRequest(config, GRANT, {
    auth_session: login.auth_session,
    authn_response: assertion,
    audience: 'https://unregistered.example',
  }),
)
const info = await client.fetchUserInfo(config, second.access_token, second.claims().sub)
await client.tokenRevocation(config, second.refresh_token)
const afterRevocation = await refused(() => client.refreshTokenGrant(config, second.refresh_token))
done({
  signUp: { claims: first.claims(), scope: first.scope, accessToken: first.access_token },
  signIn: { claims: second.claims(), scope: second.scope, accessToken: second.access_token },
  unregistered,
  info,
  afterRevocation,
})
