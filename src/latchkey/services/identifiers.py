"""Sign-up identifiers: each kind validated and normalized the one way uniqueness needs."""

from __future__ import annotations

import re

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from latchkey.errors import InvalidRequest

KINDS = ("email", "phone_number", "username")
REQUIREMENTS = ("required", "optional")
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{2,63}$")


def normalize(kind: str, value: object) -> str:
    """The stored form of an identifier, or InvalidRequest saying what is wrong with it."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidRequest(f"{kind} must be a non-empty string")
    if kind == "email":
        return _email(value)
    if kind == "phone_number":
        return _phone(value)
    if kind == "username":
        return _username(value)
    raise InvalidRequest(f"{kind} is not an identifier (use one of {', '.join(KINDS)})")


def _email(value: str) -> str:
    try:
        checked = validate_email(value.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise InvalidRequest(f"email is not valid: {exc}") from exc
    # The domain is case-insensitive; local parts are treated so too, as nearly every provider does.
    return checked.normalized.lower()


def _phone(value: str) -> str:
    if not value.startswith("+"):
        raise InvalidRequest("phone_number must be in E.164 form, such as +14155550100")
    try:
        parsed = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException as exc:
        raise InvalidRequest(f"phone_number is not valid: {exc}") from exc
    if not phonenumbers.is_valid_number(parsed):
        raise InvalidRequest("phone_number is not a valid number")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def _username(value: str) -> str:
    lowered = value.strip().lower()
    if not _USERNAME.match(lowered):
        raise InvalidRequest(
            "username must be 3 to 64 letters, digits, '.', '_' or '-', starting with a letter"
            " or digit"
        )
    return lowered


def check_schema(identifiers: dict[str, str]) -> dict[str, str]:
    """A directory's identifier schema: known kinds, each required or optional, at least one."""
    if not identifiers:
        raise InvalidRequest("a directory needs at least one identifier")
    for kind, requirement in identifiers.items():
        if kind not in KINDS:
            raise InvalidRequest(f"{kind!r} is not an identifier (use one of {', '.join(KINDS)})")
        if requirement not in REQUIREMENTS:
            raise InvalidRequest(f"{kind} must be 'required' or 'optional', not {requirement!r}")
    return dict(identifiers)
