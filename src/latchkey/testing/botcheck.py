"""Solve a bot-check (ALTCHA) challenge the way the widget does, for tests and scripted clients."""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from typing import Any

from altcha import solve_challenge_v1


def solve(challenge_json: Mapping[str, Any] | str) -> str:
    """The base64 JSON payload the widget posts for this challenge (`altcha` form field).

    Brute-forces the number as the widget's workers do, then builds the widget's v1 payload
    (algorithm, challenge, number, salt, signature, took) and encodes it as btoa(JSON) does.
    """
    found = json.loads(challenge_json) if isinstance(challenge_json, str) else challenge_json
    max_number = found.get("maxnumber", found.get("maxNumber", 1_000_000))
    solution = solve_challenge_v1(found["challenge"], found["salt"], found["algorithm"], max_number)
    if solution is None:
        raise ValueError("no number up to maxnumber solves this challenge")
    payload = {
        "algorithm": found["algorithm"],
        "challenge": found["challenge"],
        "number": solution.number,
        "salt": found["salt"],
        "signature": found["signature"],
        "took": round(solution.took * 1000),
    }
    return base64.b64encode(json.dumps(payload, separators=(",", ":")).encode()).decode()
