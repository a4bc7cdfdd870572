// The digest of DESIGN.md §3, recomputed independently of the node, with maintained
// libraries: @node-rs/xxhash (xxh3 64, seed 0) and canonicalize (RFC 8785 JCS).
import { xxh3 } from "@node-rs/xxhash";
import canonicalize from "canonicalize";

const utf8 = new TextEncoder();

/** xxh3_64(id u64 LE ‖ len u32 LE ‖ f32 LE components ‖ JCS(payload)). */
export function entryHash(id, vector, payload = {}) {
  const jcs = utf8.encode(canonicalize(payload));
  const bytes = new Uint8Array(8 + 4 + 4 * vector.length + jcs.length);
  const view = new DataView(bytes.buffer);
  view.setBigUint64(0, BigInt(id), true);
  view.setUint32(8, vector.length, true);
  for (let i = 0; i < vector.length; i++) view.setFloat32(12 + 4 * i, vector[i], true); // keeps -0.0
  bytes.set(jcs, 12 + 4 * vector.length);
  return xxh3.xxh64(bytes, 0n);
}

/** buckets, bucketCounts, stateHash and count of a set of points {id, vector, payload}. */
export function digestOf(points) {
  const buckets = new Array(256).fill(0n);
  const bucketCounts = new Array(256).fill(0n);
  for (const p of points) {
    const b = Number(BigInt(p.id) % 256n);
    buckets[b] ^= entryHash(p.id, p.vector, p.payload ?? {});
    bucketCounts[b] += 1n;
  }
  const stateHash = buckets.reduce((a, h) => a ^ h, 0n);
  return { buckets, bucketCounts, stateHash, count: BigInt(points.length) };
}

/** DESIGN.md §3's test vectors. */
export const VECTOR_7_PAYLOAD_JSON =
  '{"x":1.0,"y":1e21,"z":0.000001,"n":-3,"€":[true,null,"€"],"😀":"a","｡":"b"}';
export const VECTOR_7_CANONICAL = '{"n":-3,"x":1,"y":1e+21,"z":0.000001,"€":[true,null,"€"],"😀":"a","｡":"b"}';

export const TEST_VECTORS = [
  { id: 42n, vector: [0.5, -1.0, 2.25], payload: { b: 1, a: "x" }, entryHash: 11995086230025530625n },
  { id: 0n, vector: [0.0, 0.25, 1.0], payload: {}, entryHash: 15492647471513518463n },
  { id: 298n, vector: [1.0, 2.0, 3.0], payload: { tag: "ü" }, entryHash: 6118478708286267052n },
  { id: 7n, vector: [0.1, -0.0], payload: JSON.parse(VECTOR_7_PAYLOAD_JSON), entryHash: 886682457369270957n },
];

export const THREE_POINTS = TEST_VECTORS.slice(0, 3);
export const THREE_POINT_STATE_HASH = 2710841945336492754n;
