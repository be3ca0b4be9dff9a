"""OpenID Connect on the OAuth server: the provider assembled with its code grant, ID token and
end-session endpoint (provider.py), authorization with the pools' sign-in, logout, discovery and
userinfo. It may import oauth2, the services, the store and the records; only the HTTP surfaces
import it."""
