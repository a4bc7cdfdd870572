import type { IdLike } from "./u64.js";

/** Any JSON value, as `JSON.parse` returns it. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** A point's payload: a JSON object, passed through unaltered. */
export type Payload = { [key: string]: JsonValue };

export type Metric = "cosine" | "l2" | "dot" | "poincare";

export interface Collection {
  name: string;
  dimension: number;
  metric: Metric | (string & {});
  count: bigint;
  logicalClock: bigint;
  /** The index kind the node reports (e.g. "flat", "hnsw"), when it does. */
  index?: string;
}

/** The acknowledgement of a write. */
export interface WriteResult {
  /** Points written (upsert only). */
  upserted?: bigint;
  /** Points deleted (delete only). */
  deleted?: bigint;
  lsn: bigint;
  logicalClock: bigint;
}

export interface Point {
  id: bigint;
  /** The components exactly as stored: each f32 value as a double (Math.fround), -0 keeping its sign. */
  vector: number[];
  payload: Payload;
}

export interface PointInput {
  id: IdLike;
  /** Finite numbers; the node stores them as f32. */
  vector: ArrayLike<number>;
  /** A JSON object whose numbers are exact doubles (integers within ±2^53). */
  payload?: Record<string, unknown>;
}

export interface ScrollOptions {
  /** Return points with ids strictly above this one. */
  after?: IdLike;
  /** Page size, 1..=10,000 (the node's default is 100). */
  limit?: number;
}

export interface ScrollPage {
  points: Point[];
  /** Pass as `after` for the next page; `null` at the end. */
  nextAfter: bigint | null;
}

export interface SearchRequest {
  vector: ArrayLike<number>;
  /** 1..=1,000 */
  topK: number;
  /** Payload keys whose values must be equal. */
  filter?: Record<string, unknown>;
  ef?: number;
}

export interface ScoredPoint {
  id: bigint;
  score: number;
  payload: Payload;
}

export interface BucketEntry {
  id: bigint;
  entryHash: bigint;
}

export interface BucketListing {
  bucket: number;
  entries: BucketEntry[];
}

export interface NodeInfo {
  nodeId: string;
  role: string;
  version: string;
  httpAddr: string;
  grpcAddr: string;
  lastLsn: bigint;
  logicalClock: bigint;
}

export interface NodeAddress {
  nodeId: string;
  httpAddr: string;
  grpcAddr: string;
}

export interface FollowerInfo extends NodeAddress {
  connected: boolean;
  appliedLsn: bigint;
  lagRecords: bigint;
}

export interface ClusterInfo extends NodeInfo {
  leader: NodeAddress;
  followers: FollowerInfo[];
}

/** A collection's digest (DESIGN.md §3): every u64 exact. */
export interface Digest {
  collectionName: string;
  logicalClock: bigint;
  stateHash: bigint;
  count: bigint;
  /** 256 bucket hashes (XOR of the entry hashes of the points with id % 256 = b). */
  buckets: bigint[];
  /** 256 point counts. */
  bucketCounts: bigint[];
  /** state_hash as 16 lowercase hex digits. */
  stateHashHex: string;
}

export interface DigestDiff {
  /** True when both digests are at the same logical clock, so a difference means drift. */
  comparable: boolean;
  /** Buckets whose hash (or count) differs, ascending. */
  buckets: number[];
}
