"""The adoption rollup's per-day figures that do not add up across days, packed into bytes:
a set of small numbers as a bitmap (the users who signed in: a month's union is an OR, its
size a bit count), and lists of integers (every timed sign-in's milliseconds; passkey ordinals
with their sign-ins) as little-endian 64-bit values. Each is zlib-compressed."""

from __future__ import annotations

import sys
import zlib
from array import array
from collections.abc import Iterable


def pack_bits(ordinals: Iterable[int]) -> bytes:
    """The set as a bitmap: bit `o` of byte `o // 8` for each ordinal `o`."""
    found = bytearray()
    for o in ordinals:
        index = o >> 3
        if index >= len(found):
            found.extend(bytes(index + 1 - len(found)))
        found[index] |= 1 << (o & 7)
    return zlib.compress(bytes(found))


def unpack_bits(packed: bytes) -> int:
    """The bitmap as one integer (bit `o` set for ordinal `o`): sets union with `|`."""
    return int.from_bytes(zlib.decompress(packed), "little")


def pack_ints(values: Iterable[int]) -> bytes:
    packed = array("q", values)
    if sys.byteorder != "little":
        packed.byteswap()
    return zlib.compress(packed.tobytes())


def unpack_ints(packed: bytes) -> array[int]:
    found = array("q")
    found.frombytes(zlib.decompress(packed))
    if sys.byteorder != "little":
        found.byteswap()
    return found
