"""Synchronous (:class:`Client`) and asyncio (:class:`AsyncClient`) gRPC clients."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import (
    Any,
    AsyncIterator,
    Callable,
    Iterable,
    Iterator,
    List,
    Optional,
    Sequence,
    Tuple,
    TypeVar,
    Union,
)

import grpc
import grpc.aio

from ._proto import hyperspace_pb2 as pb
from ._proto import hyperspace_pb2_grpc as pb_grpc
from .digest import Digest
from .errors import HyperspaceError, error_from_rpc
from .types import (
    BucketEntry,
    CollectionInfo,
    NodeInfo,
    Payload,
    Point,
    Query,
    ScoredPoint,
    ScrollPage,
    WriteResult,
)

__all__ = ["AsyncClient", "Client", "PointLike", "QueryLike"]

#: A point to upsert: a :class:`Point`, an ``(id, vector[, payload])`` tuple or a
#: ``{"id", "vector", "payload"?}`` mapping.
PointLike = Union[Point, Tuple[Any, ...], Mapping[str, Any]]
#: A query of a batch: a :class:`Query` or a ``{"vector", "top_k"?, "filter"?, "ef"?}`` mapping.
QueryLike = Union[Query, Mapping[str, Any]]

_MAX_MESSAGE = 64 << 20
_CHANNEL_OPTIONS = [
    ("grpc.max_receive_message_length", _MAX_MESSAGE),
    ("grpc.max_send_message_length", _MAX_MESSAGE),
]
T = TypeVar("T")


# ---------------------------------------------------------------- conversions


def _target(address: str) -> Tuple[str, bool]:
    """`host:port`, `http://host:port` or `https://host:port` → (gRPC target, use TLS)."""
    address = address.strip()
    secure = False
    if address.startswith("https://"):
        address, secure = address[len("https://") :], True
    elif address.startswith("http://"):
        address = address[len("http://") :]
    address = address.rstrip("/")
    if not address or "/" in address:
        raise ValueError(f"address must be host:port or http(s)://host:port, got {address!r}")
    return address, secure


def _payload_json(payload: Optional[Mapping[str, Any]]) -> str:
    if payload is None:
        return "{}"
    if not isinstance(payload, Mapping):
        raise TypeError(f"a payload is a JSON object (a mapping), got {type(payload).__name__}")
    return json.dumps(payload, ensure_ascii=False, allow_nan=False, separators=(",", ":"))


def _payload_of(text: str) -> Payload:
    if not text:
        return {}
    value = json.loads(text)
    if not isinstance(value, dict):
        raise HyperspaceError(f"the node sent a payload that is not a JSON object: {text[:80]}")
    return value


def _point_to_pb(point: PointLike) -> pb.Point:
    payload: Optional[Mapping[str, Any]]
    if isinstance(point, Point):
        id, vector, payload = point.id, point.vector, point.payload
    elif isinstance(point, tuple):
        if len(point) not in (2, 3):
            raise ValueError("a point tuple is (id, vector) or (id, vector, payload)")
        id, vector = point[0], point[1]
        payload = point[2] if len(point) == 3 else None
    elif isinstance(point, Mapping):
        id, vector, payload = point["id"], point["vector"], point.get("payload")
    else:
        raise TypeError(f"not a point: {type(point).__name__}")
    return pb.Point(id=id, vector=vector, payload_json=_payload_json(payload))


def _point_of(p: pb.Point) -> Point:
    return Point(id=p.id, vector=list(p.vector), payload=_payload_of(p.payload_json))


def _query_to_pb(query: QueryLike) -> pb.SearchQuery:
    if isinstance(query, Mapping):
        query = Query(**query)
    if not isinstance(query, Query):
        raise TypeError(f"not a query: {type(query).__name__}")
    message = pb.SearchQuery(
        vector=query.vector,
        top_k=query.top_k,
        filter_json="" if query.filter is None else _payload_json(query.filter),
    )
    if query.ef is not None:
        message.ef = query.ef
    return message


def _scored_of(response: pb.SearchResponse) -> List[ScoredPoint]:
    return [
        ScoredPoint(id=r.id, score=r.score, payload=_payload_of(r.payload_json))
        for r in response.results
    ]


def _info_of(i: pb.CollectionInfo) -> CollectionInfo:
    return CollectionInfo(
        name=i.name,
        dimension=i.dimension,
        metric=i.metric,
        count=i.count,
        logical_clock=i.logical_clock,
        index=i.index,
    )


def _write_of(w: pb.WriteResponse) -> WriteResult:
    return WriteResult(count=w.count, lsn=w.lsn, logical_clock=w.logical_clock)


def _digest_of(d: pb.DigestResponse) -> Digest:
    return Digest(
        logical_clock=d.logical_clock,
        state_hash=d.state_hash,
        buckets=list(d.buckets),
        count=d.count,
        bucket_counts=list(d.bucket_counts),
        collection=d.collection_name,
    )


def _node_of(n: pb.NodeInfo) -> NodeInfo:
    return NodeInfo(
        node_id=n.node_id,
        role=n.role,
        version=n.version,
        http_addr=n.http_addr,
        grpc_addr=n.grpc_addr,
        last_lsn=n.last_lsn,
        logical_clock=n.logical_clock,
    )


def _bucket_of(r: pb.BucketResponse) -> List[BucketEntry]:
    return [BucketEntry(e.id, e.entry_hash) for e in r.entries]


def _scroll_request(collection: str, after: Optional[int], limit: Optional[int]) -> pb.ScrollRequest:
    request = pb.ScrollRequest(collection=collection)
    if after is not None:
        request.after = after
    if limit is not None:
        request.limit = limit
    return request


def _scroll_of(r: pb.ScrollResponse) -> ScrollPage:
    next_after = r.next_after if r.HasField("next_after") else None
    return ScrollPage([_point_of(p) for p in r.points], next_after)


def _search_request(
    collection: str,
    vector: Sequence[float],
    top_k: int,
    filter: Optional[Payload],
    ef: Optional[int],
) -> pb.SearchRequest:
    query = _query_to_pb(Query(vector=list(vector), top_k=top_k, filter=filter, ef=ef))
    return pb.SearchRequest(collection=collection, query=query)


def _metadata(api_key: Optional[str]) -> Tuple[Tuple[str, str], ...]:
    return (("x-api-key", api_key),) if api_key else ()


# ---------------------------------------------------------------- sync client


class Client:
    """A synchronous client of one node's gRPC API.

    ``address`` is ``host:port``, ``http://host:port`` or ``https://host:port`` (TLS with the
    system roots). ``api_key`` is sent as ``x-api-key`` on every call. ``timeout`` (seconds)
    bounds every call; ``None`` waits as long as it takes. Failed calls raise a
    :class:`~hyperspace.errors.HyperspaceError` subclass carrying the §5 code.

    The channel connects lazily: a wrong address shows on the first call as
    :class:`~hyperspace.errors.UnavailableError`. Use as a context manager or call
    :meth:`close`.
    """

    def __init__(
        self,
        address: str,
        api_key: Optional[str] = None,
        *,
        timeout: Optional[float] = None,
        credentials: Optional[grpc.ChannelCredentials] = None,
    ) -> None:
        target, secure = _target(address)
        self.address = address
        if secure or credentials is not None:
            creds = credentials or grpc.ssl_channel_credentials()
            self._channel = grpc.secure_channel(target, creds, options=_CHANNEL_OPTIONS)
        else:
            self._channel = grpc.insecure_channel(target, options=_CHANNEL_OPTIONS)
        self._stub = pb_grpc.HyperspaceStub(self._channel)
        self._metadata = _metadata(api_key)
        self._timeout = timeout

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._channel.close()

    def _call(self, method: Callable[..., T], request: Any) -> T:
        try:
            return method(request, metadata=self._metadata, timeout=self._timeout)
        except grpc.RpcError as e:
            raise error_from_rpc(e) from e

    # -- digest

    def get_digest(self, collection: Optional[str] = "default") -> Digest:
        """The digest of a collection (DESIGN.md §3); ``None`` means ``default``."""
        return _digest_of(self._call(self._stub.GetDigest, pb.DigestRequest(collection=collection or "")))

    def list_bucket(self, collection: str, bucket: int) -> List[BucketEntry]:
        """Ids and entry hashes of one digest bucket (0..=255), for drill-down."""
        request = pb.BucketRequest(collection=collection, bucket=bucket)
        return _bucket_of(self._call(self._stub.ListBucket, request))

    # -- collections

    def create_collection(self, name: str, dimension: int, metric: str) -> CollectionInfo:
        """Creates a collection; ``metric`` is ``cosine``, ``l2``, ``dot`` or ``poincare``."""
        request = pb.CreateCollectionRequest(name=name, dimension=dimension, metric=metric)
        return _info_of(self._call(self._stub.CreateCollection, request))

    def drop_collection(self, name: str) -> None:
        self._call(self._stub.DropCollection, pb.CollectionRequest(name=name))

    def get_collection(self, name: str) -> CollectionInfo:
        return _info_of(self._call(self._stub.GetCollection, pb.CollectionRequest(name=name)))

    def list_collections(self) -> List[CollectionInfo]:
        response = self._call(self._stub.ListCollections, pb.ListCollectionsRequest())
        return [_info_of(i) for i in response.collections]

    # -- points

    def upsert(self, collection: str, points: Iterable[PointLike]) -> WriteResult:
        request = pb.UpsertRequest(collection=collection, points=[_point_to_pb(p) for p in points])
        return _write_of(self._call(self._stub.Upsert, request))

    def delete(self, collection: str, ids: Iterable[int]) -> WriteResult:
        request = pb.DeleteRequest(collection=collection, ids=list(ids))
        return _write_of(self._call(self._stub.Delete, request))

    def get(self, collection: str, id: int) -> Point:
        request = pb.GetPointRequest(collection=collection, id=id)
        return _point_of(self._call(self._stub.Get, request))

    def scroll(
        self, collection: str, after: Optional[int] = None, limit: Optional[int] = None
    ) -> ScrollPage:
        """One page of points in id order after ``after`` (node default limit 100, max 10,000)."""
        return _scroll_of(self._call(self._stub.Scroll, _scroll_request(collection, after, limit)))

    def iter_points(self, collection: str, page_size: int = 1000) -> Iterator[Point]:
        """Every point of a collection in id order, page by page."""
        after: Optional[int] = None
        while True:
            page = self.scroll(collection, after, page_size)
            yield from page.points
            if page.next_after is None:
                return
            after = page.next_after

    # -- search

    def search(
        self,
        collection: str,
        vector: Sequence[float],
        top_k: int = 10,
        *,
        filter: Optional[Payload] = None,
        ef: Optional[int] = None,
    ) -> List[ScoredPoint]:
        request = _search_request(collection, vector, top_k, filter, ef)
        return _scored_of(self._call(self._stub.Search, request))

    def search_batch(
        self, collection: str, queries: Iterable[QueryLike]
    ) -> List[List[ScoredPoint]]:
        """Many queries in one call (≤ 1,000), answered in order."""
        request = pb.SearchBatchRequest(
            collection=collection, queries=[_query_to_pb(q) for q in queries]
        )
        response = self._call(self._stub.SearchBatch, request)
        return [_scored_of(r) for r in response.results]

    # -- node

    def node_info(self) -> NodeInfo:
        return _node_of(self._call(self._stub.GetNodeInfo, pb.NodeInfoRequest()))


# ---------------------------------------------------------------- asyncio client


class AsyncClient:
    """The asyncio twin of :class:`Client` (``grpc.aio``): the same calls, awaited.

    Create it inside a running event loop; use ``async with`` or ``await client.close()``.
    """

    def __init__(
        self,
        address: str,
        api_key: Optional[str] = None,
        *,
        timeout: Optional[float] = None,
        credentials: Optional[grpc.ChannelCredentials] = None,
    ) -> None:
        target, secure = _target(address)
        self.address = address
        if secure or credentials is not None:
            creds = credentials or grpc.ssl_channel_credentials()
            self._channel = grpc.aio.secure_channel(target, creds, options=_CHANNEL_OPTIONS)
        else:
            self._channel = grpc.aio.insecure_channel(target, options=_CHANNEL_OPTIONS)
        self._stub = pb_grpc.HyperspaceStub(self._channel)
        self._metadata = _metadata(api_key)
        self._timeout = timeout

    async def __aenter__(self) -> "AsyncClient":
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        await self._channel.close()

    async def _call(self, method: Callable[..., Any], request: Any) -> Any:
        try:
            return await method(request, metadata=self._metadata, timeout=self._timeout)
        except grpc.RpcError as e:
            raise error_from_rpc(e) from e

    async def get_digest(self, collection: Optional[str] = "default") -> Digest:
        return _digest_of(await self._call(self._stub.GetDigest, pb.DigestRequest(collection=collection or "")))

    async def list_bucket(self, collection: str, bucket: int) -> List[BucketEntry]:
        request = pb.BucketRequest(collection=collection, bucket=bucket)
        return _bucket_of(await self._call(self._stub.ListBucket, request))

    async def create_collection(self, name: str, dimension: int, metric: str) -> CollectionInfo:
        request = pb.CreateCollectionRequest(name=name, dimension=dimension, metric=metric)
        return _info_of(await self._call(self._stub.CreateCollection, request))

    async def drop_collection(self, name: str) -> None:
        await self._call(self._stub.DropCollection, pb.CollectionRequest(name=name))

    async def get_collection(self, name: str) -> CollectionInfo:
        return _info_of(await self._call(self._stub.GetCollection, pb.CollectionRequest(name=name)))

    async def list_collections(self) -> List[CollectionInfo]:
        response = await self._call(self._stub.ListCollections, pb.ListCollectionsRequest())
        return [_info_of(i) for i in response.collections]

    async def upsert(self, collection: str, points: Iterable[PointLike]) -> WriteResult:
        request = pb.UpsertRequest(collection=collection, points=[_point_to_pb(p) for p in points])
        return _write_of(await self._call(self._stub.Upsert, request))

    async def delete(self, collection: str, ids: Iterable[int]) -> WriteResult:
        request = pb.DeleteRequest(collection=collection, ids=list(ids))
        return _write_of(await self._call(self._stub.Delete, request))

    async def get(self, collection: str, id: int) -> Point:
        request = pb.GetPointRequest(collection=collection, id=id)
        return _point_of(await self._call(self._stub.Get, request))

    async def scroll(
        self, collection: str, after: Optional[int] = None, limit: Optional[int] = None
    ) -> ScrollPage:
        request = _scroll_request(collection, after, limit)
        return _scroll_of(await self._call(self._stub.Scroll, request))

    async def iter_points(self, collection: str, page_size: int = 1000) -> AsyncIterator[Point]:
        after: Optional[int] = None
        while True:
            page = await self.scroll(collection, after, page_size)
            for point in page.points:
                yield point
            if page.next_after is None:
                return
            after = page.next_after

    async def search(
        self,
        collection: str,
        vector: Sequence[float],
        top_k: int = 10,
        *,
        filter: Optional[Payload] = None,
        ef: Optional[int] = None,
    ) -> List[ScoredPoint]:
        request = _search_request(collection, vector, top_k, filter, ef)
        return _scored_of(await self._call(self._stub.Search, request))

    async def search_batch(
        self, collection: str, queries: Iterable[QueryLike]
    ) -> List[List[ScoredPoint]]:
        request = pb.SearchBatchRequest(
            collection=collection, queries=[_query_to_pb(q) for q in queries]
        )
        response = await self._call(self._stub.SearchBatch, request)
        return [_scored_of(r) for r in response.results]

    async def node_info(self) -> NodeInfo:
        return _node_of(await self._call(self._stub.GetNodeInfo, pb.NodeInfoRequest()))
