"""Independent JavaScript OAuth / OpenID Connect clients, unmodified, against a live Latchkey:
npm `openid-client` 6 and `oauth4webapi` 3 (pinned in tests/browser/js/package.json). Each
runs as a node script (tests/browser/js/oidc/) that prints the authorization URL; the test
does the browser's part (the hosted passkey sign-in) and hands back the callback URL; the
script then does everything else with the library and prints what it got."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.oidc_stage import API, CALLBACK, EMAIL, Stage, stage

SCRIPTS = Path(__file__).parent / "browser" / "js" / "oidc"
PACKAGES = Path(__file__).parent / "browser" / "js" / "node_modules"


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stage]:
    node = shutil.which("node")
    missing = [p for p in ("openid-client", "oauth4webapi") if not (PACKAGES / p).is_dir()]
    if node is None or missing:
        message = (
            f"node or the npm packages {missing} are missing: run `npm ci` in tests/browser/js"
        )
        if os.environ.get("LATCHKEY_REQUIRE_BROWSER") == "1":
            pytest.fail(message)
        pytest.skip(message)
    with stage(tmp_path_factory.mktemp("oidc-clients-node")) as made:
        yield made


def run_client(live: Stage, script: str, **extra: str) -> dict[str, Any]:
    """The script's run, answering what it asks on the way: an authorization URL goes through
    the hosted sign-in (the callback URL comes back); WebAuthn options get the software
    authenticator's credential (origin: the tenant's web origin, as a native app's may be)."""
    config = {
        "issuer": live.issuer,
        "clientId": live.public_id,
        "redirectUri": CALLBACK,
        "audience": API,
        **extra,
    }
    process = subprocess.Popen(
        ["node", str(SCRIPTS / script), json.dumps(config)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdin is not None
    assert process.stdout is not None
    origin = live.server.url
    try:
        for line in process.stdout:
            asked = json.loads(line)
            if "result" in asked:
                result: dict[str, Any] = asked["result"]
                break
            if "authorize" in asked:
                answer = live.sign_in(asked["authorize"])
            elif "create" in asked:
                answer = json.dumps(live.authenticator.create(asked["create"], origin=origin))
            else:
                answer = json.dumps(live.authenticator.get(asked["get"], origin=origin))
            process.stdin.write(answer + "\n")
            process.stdin.flush()
        else:
            raise AssertionError(f"{script} failed: {process.communicate(timeout=30)[1]}")
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    return result


def _bearer_refusal(failure: dict[str, Any], description: str) -> None:
    """What the library made of a 401 from userinfo: the RFC 6750 §3 challenge, read."""
    assert failure["code"] == "OAUTH_WWW_AUTHENTICATE_CHALLENGE", failure
    assert failure["status"] == 401
    assert failure["challenges"] == [
        {"scheme": "bearer", "error": "invalid_token", "description": description}
    ]


def test_openid_client(live: Stage) -> None:
    result = run_client(live, "openid-client.mjs")
    metadata = result["metadata"]
    assert metadata["issuer"] == live.issuer
    assert metadata["revocation_endpoint"] == f"{live.issuer}oauth/revoke"
    claims = result["claims"]  # checked by the library: signature, iss, aud, exp, nonce
    assert claims["iss"] == live.issuer
    assert claims["aud"] == live.public_id
    assert claims["email"] == EMAIL
    assert result["info"] == {"sub": claims["sub"], "email": EMAIL, "email_verified": False}
    _bearer_refusal(result["badToken"], "the access token is not valid")
    assert result["refreshedScope"] == "openid email profile offline_access"
    assert result["afterRevocation"]["error"] == "invalid_grant"


def test_oauth4webapi(live: Stage) -> None:
    result = run_client(live, "oauth4webapi.mjs")
    # Discovered at /.well-known/oauth-authorization-server/t/{id} (RFC 8414 §3.1).
    assert result["metadata"]["issuer"] == live.issuer
    claims = result["claims"]
    assert claims["email"] == EMAIL
    # validateJwtAccessToken: typ at+jwt, signature, iss, exp, aud == the API, client_id, jti.
    access = result["accessClaims"]
    assert access["aud"] == API
    assert access["client_id"] == live.public_id
    assert access["sub"] == claims["sub"]
    assert result["info"] == {"sub": claims["sub"], "email": EMAIL, "email_verified": False}
    _bearer_refusal(result["revokedAccess"], "the access token was revoked")
    assert result["afterRevocation"]["error"] == "invalid_grant"


def test_openid_client_with_the_passkey_grant(live: Stage) -> None:
    result = run_client(live, "openid-client-passkey.mjs", email="pat@example.com")
    signed_up, signed_in = result["signUp"], result["signIn"]
    # The ID tokens passed the library's checks; their claims follow each grant's scope.
    assert signed_up["scope"] == "openid email"
    assert signed_up["claims"]["email"] == "pat@example.com"
    assert "name" not in signed_up["claims"]
    assert signed_in["claims"]["name"] == "Pat Example"
    assert signed_in["claims"]["nickname"] == "pat"
    assert "email" not in signed_in["claims"]
    assert signed_in["claims"]["sub"] == signed_up["claims"]["sub"]
    assert signed_in["claims"]["amr"] == ["webauthn", "swk"]
    assert result["unregistered"]["error"] == "invalid_target"
    sub = signed_in["claims"]["sub"]
    assert result["info"] == {
        "sub": sub,
        "name": "Pat Example",
        "given_name": "Pat",
        "nickname": "pat",
    }
    assert result["afterRevocation"]["error"] == "invalid_grant"
