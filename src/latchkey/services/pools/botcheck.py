"""The hosted pages' bot check: an ALTCHA proof of work, verified without a third party.

A challenge is stateless: the widget fetches `challenge()`'s JSON, finds the secret number by
brute force and posts back a base64 JSON payload. Its salt carries the expiry and the HMAC
(a per-tenant key derived from the master key) binds salt and number to this tenant, so nothing
is stored until a solution is accepted; then `botcheck_spent` makes it single use.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import urllib.parse
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from altcha import ChallengeOptionsV1, create_challenge_v1, hash_hex, hmac_hex
from sqlalchemy import Connection

from latchkey.errors import InvalidRequest
from latchkey.runtime import Runtime
from latchkey.services import sealing
from latchkey.store import botcheck as spent_store

ALGORITHM: Literal["SHA-256"] = "SHA-256"
# The secret number is uniform in [0, MAX_NUMBER], so a browser does MAX_NUMBER / 2 hashes on
# average, split across its Web Workers. The shipped widget in headless Chromium on a busy 2-vCPU
# VM did 40k-100k hashes/s: 0.25-0.6 s on average, about 1 s at worst; laptops have more cores.
MAX_NUMBER = 50_000
LIFETIME = timedelta(minutes=10)
# Spends outlive their expiry by this much before pruning, so a node whose clock runs behind
# the pruning node's still finds the spend and refuses a replay.
_PRUNE_GRACE = timedelta(minutes=5)
# The widget's payload is ~300 characters; anything far longer is not one.
_MAX_PAYLOAD = 4096
_FIELDS = ("algorithm", "challenge", "number", "salt", "signature")


class BotCheckFailed(InvalidRequest):
    """The bot-check solution is malformed, forged, or not for this tenant."""

    code = "bot_check_failed"


class BotCheckRequired(BotCheckFailed):
    code = "bot_check_required"


class BotCheckExpired(BotCheckFailed):
    code = "bot_check_expired"


class BotCheckReplayed(BotCheckFailed):
    code = "bot_check_replayed"


def _key(rt: Runtime, tenant_id: str) -> bytes:
    # Per tenant, so one tenant's solutions never verify for another; derived, never stored.
    return sealing.derive(rt.master_key, f"latchkey botcheck hmac {tenant_id}")


def challenge(
    rt: Runtime,
    tenant_id: str,
    *,
    now: datetime | None = None,
    max_number: int | None = None,
    flow_id: str | None = None,
) -> dict[str, Any]:
    """The JSON the ALTCHA widget fetches: algorithm, challenge, maxnumber, salt, signature.
    With `flow_id`, the salt names the flow (signed with it), and only that flow accepts the
    solution (issue 21 item 5): a solution cannot be farmed for use elsewhere."""
    expires = (now or rt.now()) + LIFETIME
    options = ChallengeOptionsV1(
        algorithm=ALGORITHM,
        max_number=max_number or MAX_NUMBER,
        hmac_key=_key(rt, tenant_id),
        expires=expires,  # the library appends ?expires=<unix seconds>& to the salt
        params={"flow": flow_id} if flow_id else None,
    )
    made = create_challenge_v1(options)
    return {
        "algorithm": made.algorithm,
        "challenge": made.challenge,
        "maxnumber": made.max_number,
        "salt": made.salt,
        "signature": made.signature,
    }


def verify(
    conn: Connection,
    rt: Runtime,
    tenant_id: str,
    payload: str | None,
    *,
    now: datetime | None = None,
    flow_id: str | None = None,
) -> None:
    """Accept a solved challenge of this tenant once, recording the spend in `conn`'s
    transaction so it commits or rolls back with what it protects; raise otherwise. With
    `flow_id`, the challenge must have been asked for by that flow."""
    if not payload:
        raise BotCheckRequired("complete the bot check (ALTCHA) first")
    fields = _parse(payload)
    if not _signed(fields, _key(rt, tenant_id)):
        raise BotCheckFailed("the bot-check solution is not valid")
    # Checked here, not by the library, which reads the system clock rather than the runtime's.
    expires = _expiry(fields["salt"])
    if (now or rt.now()).timestamp() >= expires.timestamp():
        raise BotCheckExpired("the bot check expired; solve it again")
    if flow_id is not None and _salt_param(fields["salt"], "flow") != flow_id:
        raise BotCheckFailed("this bot-check solution was asked for by another flow")
    # The challenge is the hash of salt and number, signed: one per solution.
    digest = hashlib.sha256(f"{tenant_id}\n{fields['challenge']}".encode()).digest()
    if not spent_store.spend(conn, digest, expires + _PRUNE_GRACE):
        raise BotCheckReplayed("this bot-check solution was already used; solve it again")


def _parse(payload: str) -> dict[str, Any]:
    """The widget's base64 JSON, shape checked; a bad one is `BotCheckFailed`, never a 500."""
    if len(payload) > _MAX_PAYLOAD:
        raise BotCheckFailed("the bot-check solution is too long")
    try:
        data = json.loads(base64.b64decode(payload, validate=True))
    except (binascii.Error, ValueError) as exc:  # UnicodeDecodeError is a ValueError
        raise BotCheckFailed("the bot-check solution is not base64 JSON") from exc
    if not isinstance(data, dict) or not all(name in data for name in _FIELDS):
        raise BotCheckFailed("the bot-check solution lacks a field")
    number = data["number"]
    # A number given as a string or a bool would still hash; insist on the widget's shape.
    if not isinstance(number, int) or isinstance(number, bool) or number < 0:
        raise BotCheckFailed("the bot-check solution's number is not a whole number")
    if data["algorithm"] != ALGORITHM:
        raise BotCheckFailed(f"the bot check uses {ALGORITHM}")
    if not all(isinstance(data[name], str) for name in ("challenge", "salt", "signature")):
        raise BotCheckFailed("the bot-check solution has a field of the wrong type")
    return {name: data[name] for name in _FIELDS}


def _signed(fields: dict[str, Any], key: bytes) -> bool:
    """The number solves the challenge and the challenge carries our HMAC: altcha's
    verify_solution (v1), with constant-time comparisons where the library uses ==."""
    salt = fields["salt"] if fields["salt"].endswith("&") else fields["salt"] + "&"
    # The trailing & the library appends keeps digits from moving between salt and number.
    solved = hash_hex(ALGORITHM, f"{salt}{fields['number']}".encode())
    signature = hmac_hex(ALGORITHM, solved.encode(), key)
    # As bytes: compare_digest refuses str with non-ASCII characters, which JSON may carry.
    return hmac.compare_digest(solved.encode(), fields["challenge"].encode()) and (
        hmac.compare_digest(signature.encode(), fields["signature"].encode())
    )


def _salt_param(salt: str, name: str) -> str | None:
    """A parameter the salt carries (signed, so trusted once the HMAC checked)."""
    query = salt.split("?", 1)[1] if "?" in salt else ""
    values = urllib.parse.parse_qs(query).get(name, [])
    return values[0] if len(values) == 1 else None


def _expiry(salt: str) -> datetime:
    """The expiry the salt carries."""
    value = _salt_param(salt, "expires")
    if value is None or not value.isdigit():
        raise BotCheckFailed("the bot-check challenge carries no expiry")
    return datetime.fromtimestamp(int(value), tz=UTC)
