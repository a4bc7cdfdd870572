"""Python client of a HyperspaceDB node (gRPC, package ``hyperspace.v1``).

    >>> import hyperspace
    >>> with hyperspace.Client("localhost:50051") as client:        # doctest: +SKIP
    ...     client.create_collection("docs", 3, "cosine")
    ...     client.upsert("docs", [hyperspace.Point(1, [0.1, 0.2, 0.3], {"tag": "a"})])
    ...     print(client.get_digest("docs").state_hash)
"""

from . import digest, errors
from .client import AsyncClient, Client
from .digest import Digest, DigestDiff, compute_digest, diff, entry_hash
from .errors import (
    AlreadyExistsError,
    HyperspaceError,
    InvalidArgumentError,
    MethodNotAllowedError,
    NotFoundError,
    NotLeaderError,
    PayloadTooLargeError,
    UnauthenticatedError,
    UnavailableError,
)
from .types import (
    BucketEntry,
    CollectionInfo,
    NodeInfo,
    Point,
    Query,
    ScoredPoint,
    ScrollPage,
    WriteResult,
)

__version__ = "0.1.0"

__all__ = [
    "AlreadyExistsError",
    "AsyncClient",
    "BucketEntry",
    "Client",
    "CollectionInfo",
    "Digest",
    "DigestDiff",
    "HyperspaceError",
    "InvalidArgumentError",
    "MethodNotAllowedError",
    "NodeInfo",
    "NotFoundError",
    "NotLeaderError",
    "PayloadTooLargeError",
    "Point",
    "Query",
    "ScoredPoint",
    "ScrollPage",
    "UnauthenticatedError",
    "UnavailableError",
    "WriteResult",
    "__version__",
    "compute_digest",
    "diff",
    "digest",
    "entry_hash",
    "errors",
]
