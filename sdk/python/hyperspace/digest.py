"""The collection digest of DESIGN.md §3, recomputable from the data.

For each live point::

    entry_hash = xxh3_64(seed 0) of
        id as u64 LE ‖ number of components as u32 LE ‖ each component's f32 bits LE
        ‖ the payload canonicalized by RFC 8785 (JCS)

    bucket b = id % 256; buckets[b] = XOR of the entry hashes in b; bucket_counts[b] = count
    state_hash = XOR of the 256 buckets; count = number of live points

Example::

    >>> from hyperspace.digest import entry_hash
    >>> entry_hash(42, [0.5, -1.0, 2.25], {"b": 1, "a": "x"})
    11995086230025530625
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import Any, Iterable, List, Mapping, Optional, Sequence, Tuple, Union

import rfc8785
import xxhash

__all__ = [
    "BUCKETS",
    "Digest",
    "DigestDiff",
    "bucket_of",
    "canonical_payload",
    "compute_digest",
    "diff",
    "entry_hash",
]

BUCKETS = 256
U64_MAX = (1 << 64) - 1
_SAFE_INT = (1 << 53) - 1


@dataclass
class Digest:
    """A collection digest as the node reports it (``GetDigest``) or as computed here.

    ``buckets`` and ``bucket_counts`` have 256 entries; every number is an exact Python int.
    """

    logical_clock: int
    state_hash: int
    buckets: List[int]
    count: int
    bucket_counts: List[int]
    collection: str = ""

    @property
    def state_hash_hex(self) -> str:
        """``state_hash`` as 16 lowercase hex digits (as the REST API's ``state_hash_hex``)."""
        return f"{self.state_hash:016x}"

    def same_content(self, other: "Digest") -> bool:
        """True when both digests describe the same points (the clocks are not compared)."""
        return (
            self.state_hash == other.state_hash
            and self.count == other.count
            and list(self.buckets) == list(other.buckets)
            and list(self.bucket_counts) == list(other.bucket_counts)
        )


@dataclass(frozen=True)
class DigestDiff:
    """The result of :func:`diff`.

    Attributes:
        comparable: the two digests have equal ``logical_clock`` (DESIGN.md §2: only then
            does a difference mean drift; at different clocks one side is just behind).
        buckets: the bucket numbers whose hash or point count differ, ascending.
    """

    comparable: bool
    buckets: Tuple[int, ...] = field(default=())

    @property
    def in_sync(self) -> bool:
        """Comparable and no bucket differs."""
        return self.comparable and not self.buckets

    @property
    def drift(self) -> bool:
        """Comparable and some bucket differs: the replicas hold different data."""
        return self.comparable and bool(self.buckets)


def diff(a: Digest, b: Digest) -> DigestDiff:
    """Buckets that differ between two digests, and whether they are comparable."""
    if len(a.buckets) != BUCKETS or len(b.buckets) != BUCKETS:
        raise ValueError("a digest has 256 buckets")
    counts_a = list(a.bucket_counts) or [0] * BUCKETS
    counts_b = list(b.bucket_counts) or [0] * BUCKETS
    differing = tuple(
        i
        for i in range(BUCKETS)
        if a.buckets[i] != b.buckets[i] or counts_a[i] != counts_b[i]
    )
    return DigestDiff(comparable=a.logical_clock == b.logical_clock, buckets=differing)


def bucket_of(id: int) -> int:
    """The digest bucket of a point id."""
    return id % BUCKETS


def _jcs_ready(value: Any) -> Any:
    """Prepares a JSON value for the `rfc8785` package.

    JCS numbers are IEEE doubles. `rfc8785` refuses integers beyond ±(2^53 - 1), while the
    node accepts any integer exactly representable as a double (DESIGN.md §3 and §8: within
    ±2^53). Such an integer is canonicalized as the double it equals, which is what JCS
    (and the node's serde_json_canonicalizer) does.
    """
    if isinstance(value, bool) or value is None or isinstance(value, (str, float)):
        return value
    if isinstance(value, int):
        if -_SAFE_INT <= value <= _SAFE_INT:
            return value
        as_float = float(value)
        if int(as_float) != value:
            raise ValueError(f"payload integer {value} is not exactly representable as a double")
        return as_float
    if isinstance(value, Mapping):
        return {k: _jcs_ready(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jcs_ready(v) for v in value]
    raise TypeError(f"not a JSON value: {type(value).__name__}")


def canonical_payload(payload: Optional[Mapping[str, Any]]) -> bytes:
    """The RFC 8785 (JCS) bytes of a payload object (``None`` is ``{}``)."""
    if payload is None:
        return b"{}"
    if not isinstance(payload, Mapping):
        raise TypeError(f"a payload is a JSON object (a mapping), got {type(payload).__name__}")
    return rfc8785.dumps(_jcs_ready(payload))


def entry_hash(id: int, vector: Sequence[float], payload: Optional[Mapping[str, Any]] = None) -> int:
    """xxh3_64 (seed 0) of one point, exactly as DESIGN.md §3 defines it.

    ``vector`` components are packed as f32 (``struct`` format ``'<f'``): values read from
    the node are f32 already; other floats are rounded to f32 as the node would store them.
    ``-0.0`` keeps its sign bit.
    """
    if not 0 <= id <= U64_MAX:
        raise ValueError(f"id {id} is not a u64")
    n = len(vector)
    data = struct.pack("<QI", id, n) + struct.pack(f"<{n}f", *vector) + canonical_payload(payload)
    return xxhash.xxh3_64_intdigest(data, seed=0)


PointLike = Union[Any, Tuple[int, Sequence[float], Optional[Mapping[str, Any]]]]


def _fields(point: PointLike) -> Tuple[int, Sequence[float], Optional[Mapping[str, Any]]]:
    if isinstance(point, tuple):
        if len(point) == 2:
            return point[0], point[1], None
        return point[0], point[1], point[2]
    if isinstance(point, Mapping):
        return point["id"], point["vector"], point.get("payload")
    return point.id, point.vector, point.payload


def compute_digest(
    points: Iterable[PointLike], *, logical_clock: int = 0, collection: str = ""
) -> Digest:
    """The digest of a set of live points.

    ``points`` yields :class:`hyperspace.Point` objects, ``(id, vector, payload)`` tuples or
    ``{"id", "vector", "payload"}`` mappings. Ids must be unique (a collection holds one
    point per id). The clock is not hashed; pass ``logical_clock`` to fill the field.
    """
    buckets = [0] * BUCKETS
    counts = [0] * BUCKETS
    seen: set[int] = set()
    for point in points:
        id, vector, payload = _fields(point)
        if id in seen:
            raise ValueError(f"duplicate point id {id}")
        seen.add(id)
        b = bucket_of(id)
        buckets[b] ^= entry_hash(id, vector, payload)
        counts[b] += 1
    state = 0
    for h in buckets:
        state ^= h
    return Digest(
        logical_clock=logical_clock,
        state_hash=state,
        buckets=buckets,
        count=len(seen),
        bucket_counts=counts,
        collection=collection,
    )
