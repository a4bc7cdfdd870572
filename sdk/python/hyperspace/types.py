"""Plain data types of the client API (every u64 is an exact Python int)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, NamedTuple, Optional

__all__ = [
    "BucketEntry",
    "CollectionInfo",
    "NodeInfo",
    "Point",
    "Query",
    "ScoredPoint",
    "ScrollPage",
    "WriteResult",
]

Payload = Dict[str, Any]


@dataclass
class Point:
    """A point to write, or as read (``vector`` holds the stored f32 values exactly)."""

    id: int
    vector: List[float]
    payload: Payload = field(default_factory=dict)


@dataclass
class ScoredPoint:
    """One search hit."""

    id: int
    score: float
    payload: Payload = field(default_factory=dict)


@dataclass
class Query:
    """One k-NN query; ``filter`` keeps points whose payload has each top-level key equal."""

    vector: List[float]
    top_k: int = 10
    filter: Optional[Payload] = None
    ef: Optional[int] = None


@dataclass
class CollectionInfo:
    name: str
    dimension: int
    metric: str
    count: int
    logical_clock: int
    index: str


@dataclass
class WriteResult:
    """The acknowledgement of an upsert or delete."""

    count: int
    lsn: int
    logical_clock: int


@dataclass
class NodeInfo:
    node_id: str
    role: str
    version: str
    http_addr: str
    grpc_addr: str
    last_lsn: int
    logical_clock: int


class ScrollPage(NamedTuple):
    """One page of :meth:`Client.scroll`; unpacks as ``points, next_after``."""

    points: List[Point]
    next_after: Optional[int]


class BucketEntry(NamedTuple):
    """One point of a digest bucket (drill-down)."""

    id: int
    entry_hash: int
