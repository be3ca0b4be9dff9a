"""Operating system and browser from a User-Agent header, by ua-parser (the maintained
uap-core rules; its Rust matcher when installed, the `regex` extra). Parsed when figures are
asked for, once per distinct string: bench/adoption_funnel.py measures that against parsing
every event as it is written."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

UNKNOWN = "Unknown"


@dataclass(frozen=True)
class Platform:
    os: str
    browser: str


@lru_cache(maxsize=8192)
def platform(user_agent: str | None) -> Platform:
    """The families only ("Mac OS X", "Chrome Mobile"): versions would split every chart."""
    if not user_agent:
        return Platform(UNKNOWN, UNKNOWN)
    # Imported when first needed: loading its rules takes about half a second, which the
    # service's start and every request that asks for no figures are spared.
    from ua_parser import parse_os, parse_user_agent

    # The two domains asked for, not the device (the costliest rules to match).
    os, browser = parse_os(user_agent), parse_user_agent(user_agent)
    return Platform(
        os.family if os and os.family != "Other" else UNKNOWN,
        browser.family if browser and browser.family != "Other" else UNKNOWN,
    )
