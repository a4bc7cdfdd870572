// Tests that need no node: DESIGN.md §3's vectors, u64 handling, request encoding, errors.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import canonicalize from "canonicalize";

import { HyperspaceClient, HyperspaceError, diff, toU64, u64String, U64_MAX } from "../dist/index.js";
import {
  THREE_POINTS,
  THREE_POINT_STATE_HASH,
  TEST_VECTORS,
  VECTOR_7_CANONICAL,
  VECTOR_7_PAYLOAD_JSON,
  digestOf,
  entryHash,
} from "./digest.mjs";

describe("DESIGN.md §3 test vectors (recomputed in JS)", () => {
  for (const v of TEST_VECTORS) {
    test(`entry hash of id ${v.id}`, () => {
      assert.equal(entryHash(v.id, v.vector, v.payload), v.entryHash);
    });
  }

  test("vector 7's payload canonicalizes as documented", () => {
    assert.equal(canonicalize(JSON.parse(VECTOR_7_PAYLOAD_JSON)), VECTOR_7_CANONICAL);
  });

  test("-0.0 keeps its sign bit in the hashed bytes", () => {
    assert.notEqual(entryHash(7n, [0.1, -0.0], {}), entryHash(7n, [0.1, 0.0], {}));
  });

  test("three-point l2 collection digest", () => {
    const d = digestOf(THREE_POINTS);
    assert.equal(d.stateHash, THREE_POINT_STATE_HASH);
    assert.equal(d.stateHash.toString(16).padStart(16, "0"), "259ed862fa02b2d2");
    assert.equal(d.buckets[0], 15492647471513518463n);
    assert.equal(d.buckets[42], 17482455506791986093n);
    assert.equal(d.bucketCounts[42], 2n);
    assert.equal(d.count, 3n);
    assert.equal(d.buckets.filter((b) => b !== 0n).length, 2);
  });
});

describe("u64 handling", () => {
  test("accepts bigint, safe number and decimal string", () => {
    assert.equal(toU64(5), 5n);
    assert.equal(toU64("18446744073709551615"), U64_MAX);
    assert.equal(toU64(9007199254740993n), 9007199254740993n);
    assert.equal(u64String(2n ** 63n), "9223372036854775808");
  });

  test("refuses what cannot be an exact u64", () => {
    assert.throws(() => toU64(2 ** 53), RangeError); // not a safe integer: already rounded
    assert.throws(() => toU64(-1), RangeError);
    assert.throws(() => toU64(1.5), RangeError);
    assert.throws(() => toU64("18446744073709551616"), RangeError);
    assert.throws(() => toU64("0x10"), RangeError);
    assert.throws(() => toU64(-1n), RangeError);
  });
});

describe("diff", () => {
  const base = { collectionName: "c", logicalClock: 5n, stateHash: 0n, count: 0n, stateHashHex: "", buckets: new Array(256).fill(0n), bucketCounts: new Array(256).fill(0n) };
  test("equal digests", () => {
    assert.deepEqual(diff(base, { ...base }), { comparable: true, buckets: [] });
  });
  test("different clocks and buckets", () => {
    const other = { ...base, logicalClock: 6n, buckets: [...base.buckets], bucketCounts: [...base.bucketCounts] };
    other.buckets[3] = 1n;
    other.bucketCounts[200] = 1n;
    assert.deepEqual(diff(base, other), { comparable: false, buckets: [3, 200] });
  });
});

/** A fetch that records requests and answers with a fixed response. */
function fakeFetch(status, body, headers = { "content-type": "application/json" }) {
  const calls = [];
  const f = async (url, init) => {
    calls.push({ url: String(url), init });
    return new Response(body, { status, headers });
  };
  return { f, calls };
}

describe("request encoding", () => {
  test("u64s go out as decimal strings, -0.0 keeps its sign, ?u64=string and x-api-key are sent", async () => {
    const { f, calls } = fakeFetch(200, '{"upserted":"1","lsn":"18446744073709551615","logical_clock":"9007199254740993"}');
    const client = new HyperspaceClient("http://node.test/", { fetch: f, apiKey: "k1" });
    const ack = await client.upsert("c", [{ id: U64_MAX, vector: new Float32Array([0.5, -0]), payload: { a: 1.5 } }]);
    assert.deepEqual(ack, { upserted: 1n, lsn: U64_MAX, logicalClock: 9007199254740993n });
    const { url, init } = calls[0];
    assert.equal(url, "http://node.test/api/collections/c/points?u64=string");
    assert.equal(init.method, "PUT");
    assert.equal(init.headers["x-api-key"], "k1");
    assert.equal(init.body, '{"points":[{"id":"18446744073709551615","vector":[0.5,-0.0],"payload":{"a":1.5}}]}');
  });

  test("non-finite components are refused before sending", async () => {
    const { f, calls } = fakeFetch(200, "{}");
    const client = new HyperspaceClient("http://node.test", { fetch: f });
    await assert.rejects(client.upsert("c", [{ id: 1, vector: [NaN] }]), TypeError);
    assert.equal(calls.length, 0);
  });

  test("payload numbers are not rewritten on the way in", async () => {
    const body = '{"id":"1","vector":[0.10000000149011612,-0.0],"payload":{"f":2.5,"i":9007199254740991,"s":"12345678901234567890"}}';
    const { f } = fakeFetch(200, body);
    const p = await new HyperspaceClient("http://node.test", { fetch: f }).get("c", "1");
    assert.equal(p.id, 1n);
    assert.ok(Object.is(p.vector[1], -0));
    assert.deepEqual(p.payload, { f: 2.5, i: 9007199254740991, s: "12345678901234567890" });
  });
});

describe("answer decoding", () => {
  test("an f32 reads the same whether the node writes it short or widened", async () => {
    const short = fakeFetch(200, '{"id":"1","vector":[0.1,-1.6789451],"payload":{}}');
    const wide = fakeFetch(200, '{"points":[{"id":"1","vector":[0.10000000149011612,-1.6789450645446777],"payload":{}}],"next_after":null}');
    const a = await new HyperspaceClient("http://node.test", { fetch: short.f }).get("c", 1);
    const b = await new HyperspaceClient("http://node.test", { fetch: wide.f }).scroll("c");
    assert.deepEqual(a.vector, [Math.fround(0.1), Math.fround(-1.6789451)]);
    assert.deepEqual(b.points[0].vector, a.vector);
    assert.equal(b.nextAfter, null);
  });
});

describe("errors", () => {
  test("a §5 error body becomes a HyperspaceError with status, code and message", async () => {
    const { f } = fakeFetch(409, '{"error":{"code":"not_leader","message":"write to the leader","leader":{"node_id":"n1","http_addr":"http://a:1","grpc_addr":"http://a:2"}}}');
    const err = await new HyperspaceClient("http://node.test", { fetch: f }).delete("c", [1]).catch((e) => e);
    assert.ok(err instanceof HyperspaceError);
    assert.equal(err.status, 409);
    assert.equal(err.code, "not_leader");
    assert.equal(err.serverMessage, "write to the leader");
    assert.deepEqual(err.leader, { nodeId: "n1", httpAddr: "http://a:1", grpcAddr: "http://a:2" });
    assert.match(err.message, /not_leader \(HTTP 409\): write to the leader/);
  });

  test("a non-JSON error page keeps its status", async () => {
    const { f } = fakeFetch(502, "<html>bad gateway</html>", { "content-type": "text/html" });
    const err = await new HyperspaceClient("http://node.test", { fetch: f }).nodeInfo().catch((e) => e);
    assert.ok(err instanceof HyperspaceError);
    assert.equal(err.status, 502);
    assert.equal(err.code, "http_502");
  });

  test("a malformed success answer is invalid_response", async () => {
    const { f } = fakeFetch(200, '{"lsn":-1}');
    const err = await new HyperspaceClient("http://node.test", { fetch: f }).dropCollection("c").catch((e) => e);
    assert.ok(err instanceof HyperspaceError);
    assert.equal(err.code, "invalid_response");
  });

  test("no answer at all is network_error with status 0", async () => {
    const f = async () => {
      throw new TypeError("fetch failed");
    };
    const err = await new HyperspaceClient("http://node.test", { fetch: f }).nodeInfo().catch((e) => e);
    assert.ok(err instanceof HyperspaceError);
    assert.equal(err.status, 0);
    assert.equal(err.code, "network_error");
  });
});
