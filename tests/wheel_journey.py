"""Run by the Python of a virtualenv the built wheel was installed into (tests/test_wheel.py):
one passkey sign-up and sign-in over HTTP with that install's software authenticator, each
answer's status printed as JSON for the test to check.

Usage: python wheel_journey.py BASE_URL TENANT_ID SECRET_KEY ORIGIN
"""

from __future__ import annotations

import json
import sys

import httpx

import latchkey
from latchkey.testing.authenticator import SoftAuthenticator


def journey(base_url: str, tenant_id: str, secret: str, origin: str) -> dict[str, object]:
    authenticator = SoftAuthenticator()
    seen: dict[str, object] = {"latchkey": latchkey.__file__}
    api = f"{base_url}/api/v1/tenants/{tenant_id}"
    with httpx.Client(base_url=api, auth=(secret, ""), timeout=30) as http:
        begun = http.post("/registration/options", json={"userId": "wheel-user"})
        seen["registration_options"] = begun.status_code
        created = authenticator.create(begun.json()["options"], origin=origin)
        done = http.post(
            "/registration/verify",
            json={"challengeId": begun.json()["challengeId"], "credential": created},
        )
        seen["registration_verify"] = done.status_code
        begun = http.post("/authentication/options", json={})
        seen["authentication_options"] = begun.status_code
        assertion = authenticator.get(begun.json()["options"], origin=origin)
        signed_in = http.post(
            "/authentication/verify",
            json={"challengeId": begun.json()["challengeId"], "credential": assertion},
        )
        seen["authentication_verify"] = signed_in.status_code
        seen["user_id"] = signed_in.json().get("user", {}).get("userId")
    return seen


if __name__ == "__main__":
    print(json.dumps(journey(*sys.argv[1:5])))
