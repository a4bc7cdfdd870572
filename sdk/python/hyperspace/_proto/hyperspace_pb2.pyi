from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class CheckpointRequest(_message.Message):
    __slots__ = ("collection",)
    COLLECTION_FIELD_NUMBER: _ClassVar[int]
    collection: str
    def __init__(self, collection: _Optional[str] = ...) -> None: ...

class CheckpointResponse(_message.Message):
    __slots__ = ("checkpoints",)
    CHECKPOINTS_FIELD_NUMBER: _ClassVar[int]
    checkpoints: _containers.RepeatedCompositeFieldContainer[CheckpointTaken]
    def __init__(self, checkpoints: _Optional[_Iterable[_Union[CheckpointTaken, _Mapping]]] = ...) -> None: ...

class CheckpointTaken(_message.Message):
    __slots__ = ("collection", "lsn")
    COLLECTION_FIELD_NUMBER: _ClassVar[int]
    LSN_FIELD_NUMBER: _ClassVar[int]
    collection: str
    lsn: int
    def __init__(self, collection: _Optional[str] = ..., lsn: _Optional[int] = ...) -> None: ...

class RepairRequest(_message.Message):
    __slots__ = ("collection", "buckets")
    COLLECTION_FIELD_NUMBER: _ClassVar[int]
    BUCKETS_FIELD_NUMBER: _ClassVar[int]
    collection: str
    buckets: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, collection: _Optional[str] = ..., buckets: _Optional[_Iterable[int]] = ...) -> None: ...

class RepairJob(_message.Message):
    __slots__ = ("id", "collection", "reason", "buckets", "buckets_done", "points_sent", "started_unix_ms", "finished_unix_ms", "error", "last_lsn")
    ID_FIELD_NUMBER: _ClassVar[int]
    COLLECTION_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    BUCKETS_FIELD_NUMBER: _ClassVar[int]
    BUCKETS_DONE_FIELD_NUMBER: _ClassVar[int]
    POINTS_SENT_FIELD_NUMBER: _ClassVar[int]
    STARTED_UNIX_MS_FIELD_NUMBER: _ClassVar[int]
    FINISHED_UNIX_MS_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    LAST_LSN_FIELD_NUMBER: _ClassVar[int]
    id: int
    collection: str
    reason: str
    buckets: _containers.RepeatedScalarFieldContainer[int]
    buckets_done: int
    points_sent: int
    started_unix_ms: int
    finished_unix_ms: int
    error: str
    last_lsn: int
    def __init__(self, id: _Optional[int] = ..., collection: _Optional[str] = ..., reason: _Optional[str] = ..., buckets: _Optional[_Iterable[int]] = ..., buckets_done: _Optional[int] = ..., points_sent: _Optional[int] = ..., started_unix_ms: _Optional[int] = ..., finished_unix_ms: _Optional[int] = ..., error: _Optional[str] = ..., last_lsn: _Optional[int] = ...) -> None: ...

class CheckResult(_message.Message):
    __slots__ = ("collection", "lsn", "drifted_buckets", "drifted_hashes", "verified_unix_ms")
    COLLECTION_FIELD_NUMBER: _ClassVar[int]
    LSN_FIELD_NUMBER: _ClassVar[int]
    DRIFTED_BUCKETS_FIELD_NUMBER: _ClassVar[int]
    DRIFTED_HASHES_FIELD_NUMBER: _ClassVar[int]
    VERIFIED_UNIX_MS_FIELD_NUMBER: _ClassVar[int]
    collection: str
    lsn: int
    drifted_buckets: _containers.RepeatedScalarFieldContainer[int]
    drifted_hashes: _containers.RepeatedScalarFieldContainer[int]
    verified_unix_ms: int
    def __init__(self, collection: _Optional[str] = ..., lsn: _Optional[int] = ..., drifted_buckets: _Optional[_Iterable[int]] = ..., drifted_hashes: _Optional[_Iterable[int]] = ..., verified_unix_ms: _Optional[int] = ...) -> None: ...

class LeaderOutvoted(_message.Message):
    __slots__ = ("collection", "lsn", "followers_agreeing", "followers", "buckets")
    COLLECTION_FIELD_NUMBER: _ClassVar[int]
    LSN_FIELD_NUMBER: _ClassVar[int]
    FOLLOWERS_AGREEING_FIELD_NUMBER: _ClassVar[int]
    FOLLOWERS_FIELD_NUMBER: _ClassVar[int]
    BUCKETS_FIELD_NUMBER: _ClassVar[int]
    collection: str
    lsn: int
    followers_agreeing: int
    followers: int
    buckets: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, collection: _Optional[str] = ..., lsn: _Optional[int] = ..., followers_agreeing: _Optional[int] = ..., followers: _Optional[int] = ..., buckets: _Optional[_Iterable[int]] = ...) -> None: ...

class DigestRequest(_message.Message):
    __slots__ = ("collection",)
    COLLECTION_FIELD_NUMBER: _ClassVar[int]
    collection: str
    def __init__(self, collection: _Optional[str] = ...) -> None: ...

class DigestResponse(_message.Message):
    __slots__ = ("logical_clock", "state_hash", "buckets", "count", "bucket_counts", "collection_name")
    LOGICAL_CLOCK_FIELD_NUMBER: _ClassVar[int]
    STATE_HASH_FIELD_NUMBER: _ClassVar[int]
    BUCKETS_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    BUCKET_COUNTS_FIELD_NUMBER: _ClassVar[int]
    COLLECTION_NAME_FIELD_NUMBER: _ClassVar[int]
    logical_clock: int
    state_hash: int
    buckets: _containers.RepeatedScalarFieldContainer[int]
    count: int
    bucket_counts: _containers.RepeatedScalarFieldContainer[int]
    collection_name: str
    def __init__(self, logical_clock: _Optional[int] = ..., state_hash: _Optional[int] = ..., buckets: _Optional[_Iterable[int]] = ..., count: _Optional[int] = ..., bucket_counts: _Optional[_Iterable[int]] = ..., collection_name: _Optional[str] = ...) -> None: ...

class CreateCollectionRequest(_message.Message):
    __slots__ = ("name", "dimension", "metric")
    NAME_FIELD_NUMBER: _ClassVar[int]
    DIMENSION_FIELD_NUMBER: _ClassVar[int]
    METRIC_FIELD_NUMBER: _ClassVar[int]
    name: str
    dimension: int
    metric: str
    def __init__(self, name: _Optional[str] = ..., dimension: _Optional[int] = ..., metric: _Optional[str] = ...) -> None: ...

class CollectionRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class CollectionInfo(_message.Message):
    __slots__ = ("name", "dimension", "metric", "count", "logical_clock", "index", "unindexed")
    NAME_FIELD_NUMBER: _ClassVar[int]
    DIMENSION_FIELD_NUMBER: _ClassVar[int]
    METRIC_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    LOGICAL_CLOCK_FIELD_NUMBER: _ClassVar[int]
    INDEX_FIELD_NUMBER: _ClassVar[int]
    UNINDEXED_FIELD_NUMBER: _ClassVar[int]
    name: str
    dimension: int
    metric: str
    count: int
    logical_clock: int
    index: str
    unindexed: int
    def __init__(self, name: _Optional[str] = ..., dimension: _Optional[int] = ..., metric: _Optional[str] = ..., count: _Optional[int] = ..., logical_clock: _Optional[int] = ..., index: _Optional[str] = ..., unindexed: _Optional[int] = ...) -> None: ...

class DropCollectionResponse(_message.Message):
    __slots__ = ("lsn", "logical_clock")
    LSN_FIELD_NUMBER: _ClassVar[int]
    LOGICAL_CLOCK_FIELD_NUMBER: _ClassVar[int]
    lsn: int
    logical_clock: int
    def __init__(self, lsn: _Optional[int] = ..., logical_clock: _Optional[int] = ...) -> None: ...

class ListCollectionsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListCollectionsResponse(_message.Message):
    __slots__ = ("collections",)
    COLLECTIONS_FIELD_NUMBER: _ClassVar[int]
    collections: _containers.RepeatedCompositeFieldContainer[CollectionInfo]
    def __init__(self, collections: _Optional[_Iterable[_Union[CollectionInfo, _Mapping]]] = ...) -> None: ...

class Point(_message.Message):
    __slots__ = ("id", "vector", "payload_json")
    ID_FIELD_NUMBER: _ClassVar[int]
    VECTOR_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_JSON_FIELD_NUMBER: _ClassVar[int]
    id: int
    vector: _containers.RepeatedScalarFieldContainer[float]
    payload_json: str
    def __init__(self, id: _Optional[int] = ..., vector: _Optional[_Iterable[float]] = ..., payload_json: _Optional[str] = ...) -> None: ...

class UpsertRequest(_message.Message):
    __slots__ = ("collection", "points")
    COLLECTION_FIELD_NUMBER: _ClassVar[int]
    POINTS_FIELD_NUMBER: _ClassVar[int]
    collection: str
    points: _containers.RepeatedCompositeFieldContainer[Point]
    def __init__(self, collection: _Optional[str] = ..., points: _Optional[_Iterable[_Union[Point, _Mapping]]] = ...) -> None: ...

class DeleteRequest(_message.Message):
    __slots__ = ("collection", "ids")
    COLLECTION_FIELD_NUMBER: _ClassVar[int]
    IDS_FIELD_NUMBER: _ClassVar[int]
    collection: str
    ids: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, collection: _Optional[str] = ..., ids: _Optional[_Iterable[int]] = ...) -> None: ...

class WriteResponse(_message.Message):
    __slots__ = ("count", "lsn", "logical_clock")
    COUNT_FIELD_NUMBER: _ClassVar[int]
    LSN_FIELD_NUMBER: _ClassVar[int]
    LOGICAL_CLOCK_FIELD_NUMBER: _ClassVar[int]
    count: int
    lsn: int
    logical_clock: int
    def __init__(self, count: _Optional[int] = ..., lsn: _Optional[int] = ..., logical_clock: _Optional[int] = ...) -> None: ...

class GetPointRequest(_message.Message):
    __slots__ = ("collection", "id")
    COLLECTION_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    collection: str
    id: int
    def __init__(self, collection: _Optional[str] = ..., id: _Optional[int] = ...) -> None: ...

class ScrollRequest(_message.Message):
    __slots__ = ("collection", "after", "limit")
    COLLECTION_FIELD_NUMBER: _ClassVar[int]
    AFTER_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    collection: str
    after: int
    limit: int
    def __init__(self, collection: _Optional[str] = ..., after: _Optional[int] = ..., limit: _Optional[int] = ...) -> None: ...

class ScrollResponse(_message.Message):
    __slots__ = ("points", "next_after")
    POINTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_AFTER_FIELD_NUMBER: _ClassVar[int]
    points: _containers.RepeatedCompositeFieldContainer[Point]
    next_after: int
    def __init__(self, points: _Optional[_Iterable[_Union[Point, _Mapping]]] = ..., next_after: _Optional[int] = ...) -> None: ...

class SearchQuery(_message.Message):
    __slots__ = ("vector", "top_k", "filter_json", "ef")
    VECTOR_FIELD_NUMBER: _ClassVar[int]
    TOP_K_FIELD_NUMBER: _ClassVar[int]
    FILTER_JSON_FIELD_NUMBER: _ClassVar[int]
    EF_FIELD_NUMBER: _ClassVar[int]
    vector: _containers.RepeatedScalarFieldContainer[float]
    top_k: int
    filter_json: str
    ef: int
    def __init__(self, vector: _Optional[_Iterable[float]] = ..., top_k: _Optional[int] = ..., filter_json: _Optional[str] = ..., ef: _Optional[int] = ...) -> None: ...

class SearchRequest(_message.Message):
    __slots__ = ("collection", "query")
    COLLECTION_FIELD_NUMBER: _ClassVar[int]
    QUERY_FIELD_NUMBER: _ClassVar[int]
    collection: str
    query: SearchQuery
    def __init__(self, collection: _Optional[str] = ..., query: _Optional[_Union[SearchQuery, _Mapping]] = ...) -> None: ...

class ScoredPoint(_message.Message):
    __slots__ = ("id", "score", "payload_json")
    ID_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_JSON_FIELD_NUMBER: _ClassVar[int]
    id: int
    score: float
    payload_json: str
    def __init__(self, id: _Optional[int] = ..., score: _Optional[float] = ..., payload_json: _Optional[str] = ...) -> None: ...

class SearchResponse(_message.Message):
    __slots__ = ("results",)
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    results: _containers.RepeatedCompositeFieldContainer[ScoredPoint]
    def __init__(self, results: _Optional[_Iterable[_Union[ScoredPoint, _Mapping]]] = ...) -> None: ...

class SearchBatchRequest(_message.Message):
    __slots__ = ("collection", "queries")
    COLLECTION_FIELD_NUMBER: _ClassVar[int]
    QUERIES_FIELD_NUMBER: _ClassVar[int]
    collection: str
    queries: _containers.RepeatedCompositeFieldContainer[SearchQuery]
    def __init__(self, collection: _Optional[str] = ..., queries: _Optional[_Iterable[_Union[SearchQuery, _Mapping]]] = ...) -> None: ...

class SearchBatchResponse(_message.Message):
    __slots__ = ("results",)
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    results: _containers.RepeatedCompositeFieldContainer[SearchResponse]
    def __init__(self, results: _Optional[_Iterable[_Union[SearchResponse, _Mapping]]] = ...) -> None: ...

class BucketRequest(_message.Message):
    __slots__ = ("collection", "bucket")
    COLLECTION_FIELD_NUMBER: _ClassVar[int]
    BUCKET_FIELD_NUMBER: _ClassVar[int]
    collection: str
    bucket: int
    def __init__(self, collection: _Optional[str] = ..., bucket: _Optional[int] = ...) -> None: ...

class BucketEntry(_message.Message):
    __slots__ = ("id", "entry_hash")
    ID_FIELD_NUMBER: _ClassVar[int]
    ENTRY_HASH_FIELD_NUMBER: _ClassVar[int]
    id: int
    entry_hash: int
    def __init__(self, id: _Optional[int] = ..., entry_hash: _Optional[int] = ...) -> None: ...

class BucketResponse(_message.Message):
    __slots__ = ("bucket", "entries")
    BUCKET_FIELD_NUMBER: _ClassVar[int]
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    bucket: int
    entries: _containers.RepeatedCompositeFieldContainer[BucketEntry]
    def __init__(self, bucket: _Optional[int] = ..., entries: _Optional[_Iterable[_Union[BucketEntry, _Mapping]]] = ...) -> None: ...

class NodeInfoRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class NodeInfo(_message.Message):
    __slots__ = ("node_id", "role", "version", "http_addr", "grpc_addr", "last_lsn", "logical_clock", "leader", "followers", "following", "connected", "replication_error", "checks", "repairs", "outvoted", "anti_entropy")
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    HTTP_ADDR_FIELD_NUMBER: _ClassVar[int]
    GRPC_ADDR_FIELD_NUMBER: _ClassVar[int]
    LAST_LSN_FIELD_NUMBER: _ClassVar[int]
    LOGICAL_CLOCK_FIELD_NUMBER: _ClassVar[int]
    LEADER_FIELD_NUMBER: _ClassVar[int]
    FOLLOWERS_FIELD_NUMBER: _ClassVar[int]
    FOLLOWING_FIELD_NUMBER: _ClassVar[int]
    CONNECTED_FIELD_NUMBER: _ClassVar[int]
    REPLICATION_ERROR_FIELD_NUMBER: _ClassVar[int]
    CHECKS_FIELD_NUMBER: _ClassVar[int]
    REPAIRS_FIELD_NUMBER: _ClassVar[int]
    OUTVOTED_FIELD_NUMBER: _ClassVar[int]
    ANTI_ENTROPY_FIELD_NUMBER: _ClassVar[int]
    node_id: str
    role: str
    version: str
    http_addr: str
    grpc_addr: str
    last_lsn: int
    logical_clock: int
    leader: NodeAddress
    followers: _containers.RepeatedCompositeFieldContainer[FollowerInfo]
    following: str
    connected: bool
    replication_error: str
    checks: _containers.RepeatedCompositeFieldContainer[CheckResult]
    repairs: _containers.RepeatedCompositeFieldContainer[RepairJob]
    outvoted: _containers.RepeatedCompositeFieldContainer[LeaderOutvoted]
    anti_entropy: str
    def __init__(self, node_id: _Optional[str] = ..., role: _Optional[str] = ..., version: _Optional[str] = ..., http_addr: _Optional[str] = ..., grpc_addr: _Optional[str] = ..., last_lsn: _Optional[int] = ..., logical_clock: _Optional[int] = ..., leader: _Optional[_Union[NodeAddress, _Mapping]] = ..., followers: _Optional[_Iterable[_Union[FollowerInfo, _Mapping]]] = ..., following: _Optional[str] = ..., connected: _Optional[bool] = ..., replication_error: _Optional[str] = ..., checks: _Optional[_Iterable[_Union[CheckResult, _Mapping]]] = ..., repairs: _Optional[_Iterable[_Union[RepairJob, _Mapping]]] = ..., outvoted: _Optional[_Iterable[_Union[LeaderOutvoted, _Mapping]]] = ..., anti_entropy: _Optional[str] = ...) -> None: ...

class NodeAddress(_message.Message):
    __slots__ = ("node_id", "http_addr", "grpc_addr")
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    HTTP_ADDR_FIELD_NUMBER: _ClassVar[int]
    GRPC_ADDR_FIELD_NUMBER: _ClassVar[int]
    node_id: str
    http_addr: str
    grpc_addr: str
    def __init__(self, node_id: _Optional[str] = ..., http_addr: _Optional[str] = ..., grpc_addr: _Optional[str] = ...) -> None: ...

class FollowerInfo(_message.Message):
    __slots__ = ("node_id", "http_addr", "grpc_addr", "connected", "applied_lsn", "lag_records", "checks")
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    HTTP_ADDR_FIELD_NUMBER: _ClassVar[int]
    GRPC_ADDR_FIELD_NUMBER: _ClassVar[int]
    CONNECTED_FIELD_NUMBER: _ClassVar[int]
    APPLIED_LSN_FIELD_NUMBER: _ClassVar[int]
    LAG_RECORDS_FIELD_NUMBER: _ClassVar[int]
    CHECKS_FIELD_NUMBER: _ClassVar[int]
    node_id: str
    http_addr: str
    grpc_addr: str
    connected: bool
    applied_lsn: int
    lag_records: int
    checks: _containers.RepeatedCompositeFieldContainer[CheckResult]
    def __init__(self, node_id: _Optional[str] = ..., http_addr: _Optional[str] = ..., grpc_addr: _Optional[str] = ..., connected: _Optional[bool] = ..., applied_lsn: _Optional[int] = ..., lag_records: _Optional[int] = ..., checks: _Optional[_Iterable[_Union[CheckResult, _Mapping]]] = ...) -> None: ...

class PromoteRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class FollowRequest(_message.Message):
    __slots__ = ("leader",)
    LEADER_FIELD_NUMBER: _ClassVar[int]
    leader: str
    def __init__(self, leader: _Optional[str] = ...) -> None: ...

class FollowerMessage(_message.Message):
    __slots__ = ("hello", "ack", "report")
    HELLO_FIELD_NUMBER: _ClassVar[int]
    ACK_FIELD_NUMBER: _ClassVar[int]
    REPORT_FIELD_NUMBER: _ClassVar[int]
    hello: FollowerHello
    ack: FollowerAck
    report: CheckpointReport
    def __init__(self, hello: _Optional[_Union[FollowerHello, _Mapping]] = ..., ack: _Optional[_Union[FollowerAck, _Mapping]] = ..., report: _Optional[_Union[CheckpointReport, _Mapping]] = ...) -> None: ...

class CheckpointReport(_message.Message):
    __slots__ = ("result", "repair")
    RESULT_FIELD_NUMBER: _ClassVar[int]
    REPAIR_FIELD_NUMBER: _ClassVar[int]
    result: CheckResult
    repair: bool
    def __init__(self, result: _Optional[_Union[CheckResult, _Mapping]] = ..., repair: _Optional[bool] = ...) -> None: ...

class FollowerHello(_message.Message):
    __slots__ = ("node_id", "http_addr", "grpc_addr", "last_lsn", "last_record_hash", "last_record_origin", "anti_entropy")
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    HTTP_ADDR_FIELD_NUMBER: _ClassVar[int]
    GRPC_ADDR_FIELD_NUMBER: _ClassVar[int]
    LAST_LSN_FIELD_NUMBER: _ClassVar[int]
    LAST_RECORD_HASH_FIELD_NUMBER: _ClassVar[int]
    LAST_RECORD_ORIGIN_FIELD_NUMBER: _ClassVar[int]
    ANTI_ENTROPY_FIELD_NUMBER: _ClassVar[int]
    node_id: str
    http_addr: str
    grpc_addr: str
    last_lsn: int
    last_record_hash: int
    last_record_origin: str
    anti_entropy: str
    def __init__(self, node_id: _Optional[str] = ..., http_addr: _Optional[str] = ..., grpc_addr: _Optional[str] = ..., last_lsn: _Optional[int] = ..., last_record_hash: _Optional[int] = ..., last_record_origin: _Optional[str] = ..., anti_entropy: _Optional[str] = ...) -> None: ...

class FollowerAck(_message.Message):
    __slots__ = ("applied_lsn",)
    APPLIED_LSN_FIELD_NUMBER: _ClassVar[int]
    applied_lsn: int
    def __init__(self, applied_lsn: _Optional[int] = ...) -> None: ...

class LeaderMessage(_message.Message):
    __slots__ = ("welcome", "records", "snapshot", "heartbeat")
    WELCOME_FIELD_NUMBER: _ClassVar[int]
    RECORDS_FIELD_NUMBER: _ClassVar[int]
    SNAPSHOT_FIELD_NUMBER: _ClassVar[int]
    HEARTBEAT_FIELD_NUMBER: _ClassVar[int]
    welcome: LeaderWelcome
    records: RecordBatch
    snapshot: SnapshotChunk
    heartbeat: Heartbeat
    def __init__(self, welcome: _Optional[_Union[LeaderWelcome, _Mapping]] = ..., records: _Optional[_Union[RecordBatch, _Mapping]] = ..., snapshot: _Optional[_Union[SnapshotChunk, _Mapping]] = ..., heartbeat: _Optional[_Union[Heartbeat, _Mapping]] = ...) -> None: ...

class LeaderWelcome(_message.Message):
    __slots__ = ("leader", "last_lsn", "next_lsn", "snapshot_follows")
    LEADER_FIELD_NUMBER: _ClassVar[int]
    LAST_LSN_FIELD_NUMBER: _ClassVar[int]
    NEXT_LSN_FIELD_NUMBER: _ClassVar[int]
    SNAPSHOT_FOLLOWS_FIELD_NUMBER: _ClassVar[int]
    leader: NodeAddress
    last_lsn: int
    next_lsn: int
    snapshot_follows: bool
    def __init__(self, leader: _Optional[_Union[NodeAddress, _Mapping]] = ..., last_lsn: _Optional[int] = ..., next_lsn: _Optional[int] = ..., snapshot_follows: _Optional[bool] = ...) -> None: ...

class WalRecord(_message.Message):
    __slots__ = ("lsn", "body")
    LSN_FIELD_NUMBER: _ClassVar[int]
    BODY_FIELD_NUMBER: _ClassVar[int]
    lsn: int
    body: bytes
    def __init__(self, lsn: _Optional[int] = ..., body: _Optional[bytes] = ...) -> None: ...

class RecordBatch(_message.Message):
    __slots__ = ("records",)
    RECORDS_FIELD_NUMBER: _ClassVar[int]
    records: _containers.RepeatedCompositeFieldContainer[WalRecord]
    def __init__(self, records: _Optional[_Iterable[_Union[WalRecord, _Mapping]]] = ...) -> None: ...

class SnapshotChunk(_message.Message):
    __slots__ = ("lsn", "data", "last")
    LSN_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    LAST_FIELD_NUMBER: _ClassVar[int]
    lsn: int
    data: bytes
    last: bool
    def __init__(self, lsn: _Optional[int] = ..., data: _Optional[bytes] = ..., last: _Optional[bool] = ...) -> None: ...

class Heartbeat(_message.Message):
    __slots__ = ("last_lsn",)
    LAST_LSN_FIELD_NUMBER: _ClassVar[int]
    last_lsn: int
    def __init__(self, last_lsn: _Optional[int] = ...) -> None: ...
