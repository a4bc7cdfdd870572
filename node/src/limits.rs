//! Every limit of the node, named with its unit last, in one place (DESIGN.md §8).
//!
//! Each limit is checked once, in `validate`, before anything reaches the WAL; transports only
//! map the resulting errors. Relations between limits are checked at compile time below.

/// Longest collection name; names are `[A-Za-z0-9_-]`, so they are also safe file names.
pub const COLLECTION_NAME_BYTES_MAX: usize = 64;
/// Largest vector dimension: 16 KiB per vector, which bounds one point's WAL and memory cost.
pub const DIMENSION_MAX: usize = 4096;
/// Largest payload, measured as its JSON text: bounds WAL records and digest hashing time.
pub const PAYLOAD_BYTES_MAX: usize = 64 * 1024;
/// Largest integer a payload may hold: JCS numbers are IEEE doubles, exact only up to 2^53.
pub const PAYLOAD_INTEGER_ABS_MAX: u64 = 1 << 53;
/// Most points in one upsert: one upsert is one WAL record and one apply under the write lock.
pub const POINTS_PER_UPSERT_MAX: usize = 10_000;
/// Most ids in one delete request.
pub const IDS_PER_DELETE_MAX: usize = 10_000;
/// Largest request body over HTTP and largest gRPC message (413 / RESOURCE_EXHAUSTED beyond).
pub const REQUEST_BODY_BYTES_MAX: usize = 32 * 1024 * 1024;
/// Requests served at once per transport; more wait. Bounds memory held by bodies in flight.
pub const REQUESTS_IN_FLIGHT_MAX: usize = 64;
/// Request bodies up to this size are parsed on the async worker; larger ones on the
/// blocking pool, so a 32 MiB body cannot stall health checks.
pub const BODY_PARSE_INLINE_BYTES_MAX: usize = 64 * 1024;
/// Most results of one search.
pub const TOP_K_MAX: usize = 1_000;
/// Most queries in one batch search.
pub const SEARCHES_PER_BATCH_MAX: usize = 1_000;
/// Most results one batch search may ask for in total (sum of its `top_k`): each result
/// carries a payload of up to 64 KiB, so this bounds the answer's memory.
pub const SEARCH_RESULTS_PER_BATCH_MAX: usize = 100_000;
/// Largest `ef` a search may ask for; larger values only cost time.
pub const EF_SEARCH_MAX: usize = 4_096;
/// Default and largest page of a scroll.
pub const SCROLL_LIMIT_DEFAULT: usize = 100;
pub const SCROLL_LIMIT_MAX: usize = 10_000;
/// Buckets of the digest (DESIGN.md §3): bucket = id % 256.
pub const BUCKET_COUNT: usize = 256;
/// Collections below this many points are searched exactly (flat); above, through HNSW.
pub const FLAT_INDEX_POINTS_MAX: usize = 1_024;
/// Records between two snapshots, which bounds replay time after a crash.
pub const SNAPSHOT_RECORDS_DEFAULT: u64 = 100_000;
/// WAL segment size before rotation.
pub const WAL_SEGMENT_BYTES_MAX: u64 = 64 * 1024 * 1024;
/// Bytes of the newest WAL records kept in memory for live streaming (the live tail); a
/// follower whose next record has left it reads the WAL on disk instead.
pub const LIVE_TAIL_BYTES_MAX: usize = 64 * 1024 * 1024;
/// Bytes of records in one replication message (one larger record still goes alone).
pub const REPLICATION_BATCH_BYTES_MAX: usize = 4 * 1024 * 1024;
/// Messages queued per replication stream before the sender waits for the network.
pub const REPLICATION_QUEUE_MESSAGES_MAX: usize = 16;
/// Largest message a follower accepts from its leader: one maximal WAL record plus framing.
pub const REPLICATION_MESSAGE_BYTES_MAX: usize = 80 * 1024 * 1024;
/// Bytes of one snapshot chunk on the replication stream.
pub const SNAPSHOT_CHUNK_BYTES: usize = 1024 * 1024;
/// Largest snapshot a follower accepts over the stream (it is held in memory, then decoded).
pub const SNAPSHOT_STREAM_BYTES_MAX: usize = 16 * 1024 * 1024 * 1024;
/// Each side of a replication stream sends at least this often (heartbeat / acknowledgement).
pub const REPLICATION_HEARTBEAT_MS: u64 = 1_000;
/// A peer silent this long is dead: the stream is dropped and the follower reconnects.
pub const REPLICATION_PEER_TIMEOUT_MS: u64 = 4_000;
/// A stream heard from within this window is live: another stream with its node id is
/// refused as a duplicate identity; an older, silent one is replaced.
pub const REPLICATION_LIVE_WINDOW_MS: u64 = 3_000;
/// Reconnect backoff of a follower: doubles from the minimum to the maximum.
pub const RECONNECT_BACKOFF_MIN_MS: u64 = 100;
pub const RECONNECT_BACKOFF_MAX_MS: u64 = 5_000;
/// Client writes between two automatic checkpoints of each collection (`--checkpoint-records`).
pub const CHECKPOINT_RECORDS_DEFAULT: u64 = 1_000;
/// Points in one repair record; a larger bucket is repaired in several chunks.
pub const REPAIR_CHUNK_POINTS_MAX: usize = 1_000;
/// Bytes of points in one repair record (one larger point still goes alone).
pub const REPAIR_CHUNK_BYTES_MAX: usize = 4 * 1024 * 1024;
/// Default rate of points written into repair records (`--repair-points-per-second`), so
/// repair never starves the live stream.
pub const REPAIR_POINTS_PER_SECOND_DEFAULT: u64 = 50_000;
/// How long the leader waits for every verifying follower's report of a checkpoint; with
/// one follower it then decides alone, with more the checkpoint stays undecided.
pub const ANTIENTROPY_DECISION_WAIT_MS: u64 = 30_000;
/// Checkpoints awaiting a decision that the leader keeps (the oldest go first).
pub const UNDECIDED_MAX: usize = 1_024;
/// A bucket repaired less than this long ago is not repaired again automatically (a drift
/// that outlasts repairs is left to `HyperspaceRepairFailing` and an operator).
pub const REPAIR_RETRY_MS: u64 = 30_000;
/// How often the leader's repair worker looks for decisions when nothing wakes it.
pub const ANTIENTROPY_TICK_MS: u64 = 250;
/// Repair jobs the leader remembers for the API and the console's history.
pub const REPAIR_JOBS_KEPT: usize = 50;

const _: () = assert!(REPAIR_CHUNK_BYTES_MAX <= REPLICATION_BATCH_BYTES_MAX);
const _: () = assert!(REPLICATION_HEARTBEAT_MS < REPLICATION_LIVE_WINDOW_MS);
const _: () = assert!(REPLICATION_LIVE_WINDOW_MS < REPLICATION_PEER_TIMEOUT_MS);
const _: () = assert!(REPLICATION_BATCH_BYTES_MAX <= LIVE_TAIL_BYTES_MAX);
const _: () = assert!(REQUEST_BODY_BYTES_MAX * 2 < REPLICATION_MESSAGE_BYTES_MAX);
const _: () = assert!(POINTS_PER_UPSERT_MAX <= REQUEST_BODY_BYTES_MAX / 4);
const _: () = assert!(TOP_K_MAX <= EF_SEARCH_MAX);
const _: () = assert!(TOP_K_MAX <= SEARCH_RESULTS_PER_BATCH_MAX);
const _: () = assert!(SCROLL_LIMIT_DEFAULT <= SCROLL_LIMIT_MAX);
const _: () = assert!((PAYLOAD_BYTES_MAX as u64) < WAL_SEGMENT_BYTES_MAX);
