"""hyperspace.digest against DESIGN.md §3 (no node needed)."""

from __future__ import annotations

from typing import Any

import pytest

from hyperspace import Digest, Point, compute_digest, diff, entry_hash
from hyperspace.digest import canonical_payload

from vectors import (
    ENTRIES,
    THREE_POINT_BUCKET_0,
    THREE_POINT_BUCKET_42,
    THREE_POINT_STATE_HASH,
    THREE_POINTS,
    VECTOR_7_CANONICAL,
    VECTOR_7_PAYLOAD,
)


@pytest.mark.parametrize("id, vector, payload, expected", ENTRIES, ids=[str(e[0]) for e in ENTRIES])
def test_entry_hash_vectors(id: int, vector: list[float], payload: dict[str, Any], expected: int) -> None:
    assert entry_hash(id, vector, payload) == expected


def test_vector_7_canonical_payload() -> None:
    assert canonical_payload(VECTOR_7_PAYLOAD).decode("utf-8") == VECTOR_7_CANONICAL


def test_three_point_collection() -> None:
    d = compute_digest((id, v, p) for id, v, p, _ in THREE_POINTS)
    assert d.state_hash == THREE_POINT_STATE_HASH
    assert d.state_hash_hex == "259ed862fa02b2d2"
    assert d.count == 3
    assert d.buckets[0] == THREE_POINT_BUCKET_0
    assert d.buckets[42] == THREE_POINT_BUCKET_42
    assert [b for i, b in enumerate(d.buckets) if i not in (0, 42)] == [0] * 254
    assert d.bucket_counts[42] == 2 and d.bucket_counts[0] == 1 and sum(d.bucket_counts) == 3


def test_point_forms_agree() -> None:
    as_points = compute_digest(Point(id, v, p) for id, v, p, _ in THREE_POINTS)
    as_dicts = compute_digest({"id": id, "vector": v, "payload": p} for id, v, p, _ in THREE_POINTS)
    assert as_points == as_dicts
    assert as_points.state_hash == THREE_POINT_STATE_HASH


def test_empty_payload_is_none() -> None:
    assert entry_hash(0, [0.0, 0.25, 1.0], None) == entry_hash(0, [0.0, 0.25, 1.0], {})


def test_negative_zero_keeps_its_sign() -> None:
    assert entry_hash(7, [0.1, 0.0], VECTOR_7_PAYLOAD) != entry_hash(7, [0.1, -0.0], VECTOR_7_PAYLOAD)


def test_components_are_f32() -> None:
    # 0.1 is hashed as the f32 nearest to it, as the node stores it.
    import struct

    f32 = struct.unpack("<f", struct.pack("<f", 0.1))[0]
    assert f32 != 0.1
    assert entry_hash(1, [0.1], {}) == entry_hash(1, [f32], {})


def test_u64_ids() -> None:
    big = 2**64 - 1
    assert compute_digest([(big, [1.0], {})]).bucket_counts[big % 256] == 1
    with pytest.raises(ValueError):
        entry_hash(2**64, [1.0], {})
    with pytest.raises(ValueError):
        entry_hash(-1, [1.0], {})


def test_payload_integer_two_pow_53() -> None:
    # The node accepts integers within ±2^53 (DESIGN §8); `rfc8785` alone stops at 2^53 - 1.
    assert canonical_payload({"n": 2**53, "m": -(2**53)}) == b'{"m":-9007199254740992,"n":9007199254740992}'
    # (Larger integers that are doubles canonicalize as ECMAScript prints the double.)
    assert canonical_payload({"n": 2**60}) == b'{"n":1152921504606847000}'
    with pytest.raises(ValueError):
        canonical_payload({"n": 2**53 + 1})


def test_duplicate_ids_refused() -> None:
    with pytest.raises(ValueError):
        compute_digest([(1, [1.0], {}), (1, [2.0], {})])


def _digest(clock: int, **changes: int) -> Digest:
    base = compute_digest((id, v, p) for id, v, p, _ in THREE_POINTS)
    base.logical_clock = clock
    for k, v in changes.items():
        i = int(k[1:])
        base.buckets[i] ^= v
    return base


def test_diff() -> None:
    a = _digest(5)
    assert diff(a, _digest(5)).in_sync
    d = diff(a, _digest(5, b42=1, b200=7))
    assert d.comparable and d.drift and d.buckets == (42, 200)
    d = diff(a, _digest(6, b3=1))
    assert not d.comparable and not d.drift and not d.in_sync and d.buckets == (3,)
    # A bucket whose hash agrees but whose count differs is a difference too.
    c = _digest(5)
    c.bucket_counts[9] = 1
    assert diff(a, c).buckets == (9,)
