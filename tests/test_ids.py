"""Identifiers: the ordered ids are RFC 9562 UUIDv7s, time-ordered by their milliseconds."""

from __future__ import annotations

import time
import uuid

from latchkey.ids import new_ordered_id


def test_ordered_ids_are_uuid_v7_with_the_rfc_variant() -> None:
    for _ in range(2000):
        text = new_ordered_id()
        parsed = uuid.UUID(text)
        assert str(parsed) == text  # canonical: lowercase, 8-4-4-4-12
        assert parsed.version == 7
        assert parsed.variant == uuid.RFC_4122


def test_ordered_ids_carry_the_time_in_milliseconds() -> None:
    before = time.time_ns() // 1_000_000
    made = uuid.UUID(new_ordered_id())
    after = time.time_ns() // 1_000_000
    assert before <= made.int >> 80 <= after


def test_ordered_ids_sort_by_time_and_differ() -> None:
    earlier = [new_ordered_id() for _ in range(50)]
    time.sleep(0.002)
    later = [new_ordered_id() for _ in range(50)]
    assert max(earlier) < min(later)
    assert len(set(earlier + later)) == 100


def test_ordered_ids_random_bits_vary_in_every_position() -> None:
    # 74 random bits: across many ids, every random hex digit takes more than one value, and
    # the variant digit takes each of its four values.
    made = [new_ordered_id().replace("-", "") for _ in range(400)]
    for position in range(12, 32):
        if position == 12:
            assert {m[12] for m in made} == {"7"}
        elif position == 16:
            assert {m[16] for m in made} == set("89ab")
        else:
            assert len({m[position] for m in made}) > 1
