// Against a real `hyperspace node`: writes points and checks getDigest against the digest
// recomputed here from the scrolled data (DESIGN.md §3), plus reads, search and errors.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import { HyperspaceClient, HyperspaceError } from "../dist/index.js";
import { startNode } from "./harness.mjs";
import {
  THREE_POINTS,
  THREE_POINT_STATE_HASH,
  TEST_VECTORS,
  VECTOR_7_PAYLOAD_JSON,
  digestOf,
  entryHash,
} from "./digest.mjs";

const U64_MAX = 18446744073709551615n;
const ABOVE_2_53 = 9007199254740993n; // 2^53 + 1: not representable as a double

let node;
let client;

before(async () => {
  node = await startNode();
  client = new HyperspaceClient(node.url, { timeoutMs: 10_000 });
});

after(async () => {
  await node?.stop();
});

/** Reads every point back and recomputes the digest from what the node returns. */
async function recomputed(collection, pageSize = 37) {
  const points = [];
  for await (const p of client.scrollAll(collection, { limit: pageSize })) points.push(p);
  return { points, digest: digestOf(points) };
}

function assertDigestMatches(served, computed) {
  assert.equal(served.count, computed.count);
  assert.equal(served.stateHash, computed.stateHash);
  assert.equal(served.stateHashHex, computed.stateHash.toString(16).padStart(16, "0"));
  assert.deepEqual(served.buckets, computed.buckets);
  assert.deepEqual(served.bucketCounts, computed.bucketCounts);
}

/** A deterministic generator (mulberry32) so a failure can be replayed. */
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe("DESIGN.md §3 test vectors through a real node", () => {
  test("the three-point l2 collection has state hash 2710841945336492754", async () => {
    await client.createCollection("three", { dimension: 3, metric: "l2" });
    const ack = await client.upsert("three", THREE_POINTS);
    assert.equal(ack.upserted, 3n);
    assert.equal(typeof ack.lsn, "bigint");

    const d = await client.getDigest("three");
    assert.equal(d.collectionName, "three");
    assert.equal(d.stateHash, THREE_POINT_STATE_HASH);
    assert.equal(d.stateHashHex, "259ed862fa02b2d2");
    assert.equal(d.count, 3n);
    assert.equal(d.buckets.length, 256);
    assert.equal(d.buckets[0], 15492647471513518463n);
    assert.equal(d.buckets[42], 17482455506791986093n);
    assert.equal(d.bucketCounts[42], 2n);
    assert.equal(d.buckets.filter((b) => b !== 0n).length, 2);
    assert.equal(d.logicalClock, ack.logicalClock);
    assertDigestMatches(d, (await recomputed("three")).digest);

    const bucket = await client.listBucket("three", 42);
    assert.equal(bucket.bucket, 42);
    const hashes = new Map(bucket.entries.map((e) => [e.id, e.entryHash]));
    assert.equal(hashes.get(42n), 11995086230025530625n);
    assert.equal(hashes.get(298n), 6118478708286267052n);
  });

  test("vector 7 (unicode keys, 1e21, -0.0) hashes as documented", async () => {
    await client.createCollection("seven", { dimension: 2, metric: "l2" });
    await client.upsert("seven", [{ id: 7, vector: [0.1, -0.0], payload: JSON.parse(VECTOR_7_PAYLOAD_JSON) }]);
    const p = await client.get("seven", 7);
    assert.ok(Object.is(p.vector[1], -0), "-0.0 comes back with its sign");
    assert.equal(Math.fround(p.vector[0]), Math.fround(0.1));
    const v7 = TEST_VECTORS[3];
    assert.deepEqual(p.payload, v7.payload);
    assert.equal(entryHash(p.id, p.vector, p.payload), v7.entryHash);
    const d = await client.getDigest("seven");
    assert.equal(d.stateHash, v7.entryHash);
    assert.deepEqual((await client.listBucket("seven", 7)).entries, [{ id: 7n, entryHash: v7.entryHash }]);
  });
});

describe("digest recomputed from scrolled data", () => {
  const name = "mixed";
  const dim = 8;
  const next = rng(20240611);
  const vec = () => Array.from({ length: dim }, () => Math.fround((next() - 0.5) * 4));
  const payloadOf = (i) =>
    [
      {},
      { n: i, f: i / 8, neg: -i, tag: `t${i % 5}` },
      { nested: { list: [1, 2.5, "x", null, true], deep: { "é": "ü", "😀": i } }, big: 9007199254740991 },
      { e: 1e21, small: 0.000001, s: "line\nbreak \"quoted\" \u0001" },
    ][i % 4];

  test("ids above 2^53 round-trip exactly and digests agree after upserts, overwrites and deletes", async () => {
    await client.createCollection(name, { dimension: dim, metric: "l2" });
    const ids = [0n, 1n, 255n, 256n, ABOVE_2_53, U64_MAX, U64_MAX - 255n, 2n ** 63n];
    for (let i = 0; ids.length < 400; i++) ids.push(BigInt(i * 7919 + 1000));
    const points = ids.map((id, i) => ({
      // ids in every accepted form
      id: i % 3 === 0 ? id : i % 3 === 1 ? id.toString() : id <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(id) : id,
      vector: vec(),
      payload: payloadOf(i),
    }));
    points[5].vector[0] = -0; // a -0.0 component in the bulk data too
    const ack = await client.upsert(name, points);
    assert.equal(ack.upserted, 400n);

    let served = await client.getDigest(name);
    let { points: read, digest } = await recomputed(name);
    assert.equal(read.length, 400);
    assertDigestMatches(served, digest);

    // Exact ids and payloads on the way back.
    const top = await client.get(name, U64_MAX);
    assert.equal(top.id, U64_MAX);
    assert.deepEqual(top.payload, points[5].payload);
    assert.ok(Object.is(top.vector[0], -0));
    const mid = await client.get(name, ABOVE_2_53.toString());
    assert.equal(mid.id, ABOVE_2_53);
    assert.deepEqual(mid.vector, points[4].vector.map(Math.fround));
    assert.deepEqual(mid.payload, points[4].payload);
    assert.ok(read.some((p) => p.id === 2n ** 63n));

    // An entry hash above 2^53 is exact, as listed by the bucket drill-down.
    const b = Number(U64_MAX % 256n);
    const listing = await client.listBucket(name, b);
    for (const e of listing.entries) {
      const p = read.find((q) => q.id === e.id);
      assert.equal(e.entryHash, entryHash(p.id, p.vector, p.payload));
    }
    assert.ok(read.some((p) => entryHash(p.id, p.vector, p.payload) > 2n ** 53n));

    // Overwrite some, delete some: the node's digest follows, and diff names the buckets.
    const before = served;
    await client.upsert(name, [{ id: ABOVE_2_53, vector: vec(), payload: { changed: true } }]);
    const del = await client.delete(name, [U64_MAX, 1000n, "8919"]);
    assert.equal(del.deleted, 3n);
    served = await client.getDigest(name);
    ({ digest } = await recomputed(name, 1000));
    assertDigestMatches(served, digest);
    assert.equal(served.count, 397n);
    const changed = client.diff(before, served);
    assert.equal(changed.comparable, false);
    const expected = [ABOVE_2_53, U64_MAX, 1000n, 8919n].map((id) => Number(id % 256n));
    assert.deepEqual(changed.buckets, [...new Set(expected)].sort((x, y) => x - y));
    assert.deepEqual(client.diff(served, await client.getDigest(name)), { comparable: true, buckets: [] });
  });

  test("scroll pages in id order with nextAfter", async () => {
    const first = await client.scroll(name, { limit: 3 });
    assert.deepEqual(first.points.map((p) => p.id), [0n, 1n, 255n]);
    assert.equal(first.nextAfter, 255n);
    const last = await client.scroll(name, { after: U64_MAX - 255n, limit: 10 });
    assert.deepEqual(last.points, []); // only U64_MAX was after it, and it was deleted
    assert.equal(last.nextAfter, null);
  });

  test("search and batch search find the exact vector first", async () => {
    const target = await client.get(name, 256n);
    const hits = await client.search(name, { vector: target.vector, topK: 5 });
    assert.equal(hits.length, 5);
    assert.equal(hits[0].id, 256n);
    assert.equal(typeof hits[0].score, "number");
    assert.deepEqual(hits[0].payload, target.payload);

    const filtered = await client.search(name, { vector: target.vector, topK: 3, filter: { tag: "t1" } });
    assert.ok(filtered.length > 0);
    for (const h of filtered) assert.equal(h.payload.tag, "t1");

    const other = await client.get(name, 0n);
    const batch = await client.searchBatch(name, [
      { vector: target.vector, topK: 2 },
      { vector: other.vector, topK: 1, ef: 64 },
    ]);
    assert.equal(batch.length, 2);
    assert.equal(batch[0][0].id, 256n);
    assert.deepEqual(batch[1].map((h) => h.id), [0n]);
  });
});

describe("collections and node", () => {
  test("list, get, default digest, node info, drop", async () => {
    const created = await client.createCollection("default", { dimension: 2, metric: "cosine" });
    assert.deepEqual([created.name, created.dimension, created.metric, created.count], ["default", 2, "cosine", 0n]);
    const names = (await client.listCollections()).map((c) => c.name).sort();
    assert.deepEqual(names, ["default", "mixed", "seven", "three"]);
    const three = await client.getCollection("three");
    assert.equal(three.count, 3n);
    assert.equal(typeof three.logicalClock, "bigint");

    const d = await client.getDigest();
    assert.equal(d.collectionName, "default");
    assert.equal(d.stateHash, 0n);
    assert.equal(d.stateHashHex, "0000000000000000");

    const info = await client.nodeInfo();
    assert.equal(info.role, "leader");
    assert.equal(typeof info.lastLsn, "bigint");
    assert.ok(info.logicalClock >= three.logicalClock);
    assert.match(info.nodeId, /^[0-9a-f-]{36}$/);

    const dropped = await client.dropCollection("default");
    assert.equal(typeof dropped.lsn, "bigint");
    assert.ok(!(await client.listCollections()).some((c) => c.name === "default"));
  });
});

describe("errors from the node", () => {
  async function expectError(promise, status, code) {
    const err = await promise.then(
      () => assert.fail(`expected ${code}`),
      (e) => e,
    );
    assert.ok(err instanceof HyperspaceError, `expected a HyperspaceError, got ${err}`);
    assert.equal(err.status, status);
    assert.equal(err.code, code);
    assert.ok(err.serverMessage.length > 0);
    assert.ok(err.message.includes(code));
    return err;
  }

  test("unknown collection is not_found", async () => {
    const err = await expectError(client.getDigest("no-such-collection"), 404, "not_found");
    assert.match(err.serverMessage, /no-such-collection/);
    await expectError(client.upsert("no-such-collection", [{ id: 1, vector: [1] }]), 404, "not_found");
  });

  test("missing point is not_found", async () => {
    await expectError(client.get("three", 123456789n), 404, "not_found");
  });

  test("wrong dimension is invalid_argument", async () => {
    const err = await expectError(client.upsert("three", [{ id: 1, vector: [1, 2] }]), 400, "invalid_argument");
    assert.match(err.serverMessage, /dimension|3|2/);
    await expectError(client.search("three", { vector: [1, 2, 3, 4], topK: 1 }), 400, "invalid_argument");
  });

  test("duplicate collection is already_exists", async () => {
    await expectError(client.createCollection("three", { dimension: 3, metric: "l2" }), 409, "already_exists");
  });
});
