"""Every vector of ../shared/conformance through Latchkey's verification layer.

The verdict must match; a reject must be a VerificationError whose code names the vector's
reason (or one of the causes the vector says the same edit also breaks); an accept must return
the fields the vector expects.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url

from latchkey.errors import VerificationError
from latchkey.webauthn.authentication_verification import verify_authentication_response
from latchkey.webauthn.registration_verification import verify_registration_response

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "conformance" / "vectors"

# The corpus's reason names, as Latchkey's error codes.
REASON_CODES = {
    "malformed": "malformed_response",
}


def _vectors() -> list[dict[str, Any]]:
    if not CORPUS.is_dir():
        return []
    found: list[dict[str, Any]] = []
    for path in sorted(CORPUS.glob("*.json")):
        found.extend(json.loads(path.read_text()))
    return found


VECTORS = _vectors()


def test_corpus_is_present() -> None:
    assert len(VECTORS) == 343, f"expected the 343 conformance vectors beside the repo at {CORPUS}"


def _origins(vector: dict[str, Any]) -> list[str]:
    origin = vector["expected_origin"]
    return [origin] if isinstance(origin, str) else list(origin)


def _verify(vector: dict[str, Any]) -> Any:
    common = {
        "credential": vector["credential"],
        "expected_challenge": base64url_to_bytes(vector["expected_challenge"]),
        "rp_id": vector["rp_id"],
        "origins": _origins(vector),
        "require_user_verification": vector["require_user_verification"],
    }
    if vector["ceremony"] == "registration":
        when = vector.get("trust_path_checked_at")
        return verify_registration_response(
            **common,
            allowed_algorithms=vector["allowed_algorithms"],
            require_user_presence=vector.get("require_user_presence", True),
            checked_at=datetime.fromisoformat(when.replace("Z", "+00:00")) if when else None,
        )
    owner = vector.get("expected_user_handle")
    return verify_authentication_response(
        **common,
        public_key=base64url_to_bytes(vector["credential_public_key"]),
        stored_sign_count=vector["stored_sign_count"],
        owner_user_handle=base64url_to_bytes(owner) if owner else None,
    )


def _fields(vector: dict[str, Any], result: Any) -> dict[str, Any]:
    if vector["ceremony"] == "registration":
        got = {
            "fmt": result.fmt,
            "aaguid": result.aaguid,
            "credential_id": bytes_to_base64url(result.credential_id),
            "credential_public_key": bytes_to_base64url(result.public_key),
            "sign_count": result.sign_count,
            "alg": result.alg,
        }
    else:
        got = {"new_sign_count": result.new_sign_count}
    got |= {
        "user_verified": result.user_verified,
        "backup_eligible": result.backup_eligible,
        "backup_state": result.backup_state,
    }
    return got


def _outcome(vector: dict[str, Any]) -> tuple[Any, VerificationError | None]:
    try:
        return _verify(vector), None
    except VerificationError as error:
        return None, error


@pytest.mark.parametrize("vector", VECTORS, ids=[v["id"] for v in VECTORS])
def test_vector_verdict(vector: dict[str, Any]) -> None:
    expected = vector["expected"]
    result, error = _outcome(vector)
    if error is not None:
        assert expected["verdict"] in ("reject", "either"), f"rejected: {error.code}: {error}"
        if expected["verdict"] == "reject":
            causes = [expected["reason"], *expected.get("also_breaks", [])]
            assert error.code in [REASON_CODES.get(c, c) for c in causes], str(error)
        return
    assert expected["verdict"] in ("accept", "either"), f"accepted, expected {expected}"
    if expected["verdict"] == "accept":
        got = _fields(vector, result)
        wrong = {k: (got[k], expected[k]) for k in got if k in expected and got[k] != expected[k]}
        assert not wrong, wrong
