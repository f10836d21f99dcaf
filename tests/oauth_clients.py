"""Standard OAuth 2.0 client libraries against a running guichet, as a first-party frontend's
backend (or a native app) would use them with a public client: authlib and requests-oauthlib,
each with its defaults, through the password, refresh and revocation flows.

    oauth_clients.py BASE CLIENT_ID EMAIL PASSWORD

The API test suite calls this with the tools venv's Python (scripts/install-tools installs
both libraries); later tests may reuse it. Exits non-zero, saying where, on the first flow that
does not go as RFC 6749 and RFC 7009 say.
"""

import sys

import requests
from authlib.integrations.requests_client import OAuth2Session as AuthlibSession
from authlib.integrations.base_client.errors import OAuthError as AuthlibError
from oauthlib.oauth2 import InvalidGrantError, LegacyApplicationClient
from requests_oauthlib import OAuth2Session as OAuthlibSession

base, client_id, email, password = sys.argv[1:5]
metadata = requests.get(f"{base}/.well-known/oauth-authorization-server", timeout=10).json()
# the endpoints' paths from the metadata, on the address the server is reached at here (the
# test server's public URL is not resolvable)
path = lambda url: "/" + url.split("/", 3)[3]  # noqa: E731
token_url, revoke_url = base + path(metadata["token_endpoint"]), base + path(metadata["revocation_endpoint"])
if "none" not in metadata["token_endpoint_auth_methods_supported"]:
    sys.exit("oauth-clients: the metadata does not list 'none' for the token endpoint")


def me(session, who):
    """The access token works: the caller's own account."""
    res = session.get(f"{base}/v1/me", timeout=10)
    if res.status_code != 200 or res.json().get("email") != email:
        sys.exit(f"oauth-clients: {who}: GET /v1/me answered {res.status_code} {res.text[:300]}")


# authlib: a public client is token_endpoint_auth_method="none" (client_id in the body)
a = AuthlibSession(client_id=client_id, token_endpoint_auth_method="none")
first = a.fetch_token(token_url, username=email, password=password)
me(a, "authlib after the password grant")
second = a.refresh_token(token_url, refresh_token=first["refresh_token"])
if second["refresh_token"] == first["refresh_token"]:
    sys.exit("oauth-clients: authlib: the refresh token was not rotated")
me(a, "authlib after the refresh")
revoked = a.revoke_token(revoke_url, token=second["refresh_token"], token_type_hint="refresh_token")
if revoked.status_code != 200:
    sys.exit(f"oauth-clients: authlib: revocation answered {revoked.status_code} {revoked.text[:300]}")
try:
    a.refresh_token(token_url, refresh_token=second["refresh_token"])
    sys.exit("oauth-clients: authlib: a revoked refresh token still works")
except AuthlibError as e:
    if e.error != "invalid_grant":
        sys.exit(f"oauth-clients: authlib: a revoked refresh token gave {e.error}, not invalid_grant")
print("oauth-clients: authlib: password, refresh and revocation as a public client")

# requests-oauthlib: the legacy application (password) client; by default it authenticates the
# client with HTTP Basic and an empty secret
o = OAuthlibSession(client=LegacyApplicationClient(client_id=client_id))
first = o.fetch_token(token_url=token_url, username=email, password=password)
me(o, "requests-oauthlib after the password grant")
second = o.refresh_token(token_url, refresh_token=first["refresh_token"], client_id=client_id)
me(o, "requests-oauthlib after the refresh")
# requests-oauthlib has no revocation helper: its session posts the RFC 7009 form
revoked = o.post(
    revoke_url,
    data={"token": second["refresh_token"], "token_type_hint": "refresh_token", "client_id": client_id},
    timeout=10,
)
if revoked.status_code != 200:
    sys.exit(f"oauth-clients: requests-oauthlib: revocation answered {revoked.status_code} {revoked.text[:300]}")
try:
    o.refresh_token(token_url, refresh_token=second["refresh_token"], client_id=client_id)
    sys.exit("oauth-clients: requests-oauthlib: a revoked refresh token still works")
except InvalidGrantError:
    pass
print("oauth-clients: requests-oauthlib: password, refresh and revocation as a public client")
