// A node started with --api-key: the key goes in x-api-key; a missing or wrong one is
// `unauthenticated`.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import { HyperspaceClient, HyperspaceError } from "../dist/index.js";
import { startNode } from "./harness.mjs";

const KEY = "s3cret-key";
let node;

before(async () => {
  node = await startNode({ apiKey: KEY });
});

after(async () => {
  await node?.stop();
});

for (const [label, apiKey] of [
  ["missing key", undefined],
  ["wrong key", "not-the-key"],
]) {
  test(`${label} is unauthenticated`, async () => {
    const client = new HyperspaceClient(node.url, apiKey === undefined ? {} : { apiKey });
    const err = await client.listCollections().catch((e) => e);
    assert.ok(err instanceof HyperspaceError, `expected a HyperspaceError, got ${err}`);
    assert.equal(err.status, 401);
    assert.equal(err.code, "unauthenticated");
  });
}

test("the right key works", async () => {
  const client = new HyperspaceClient(node.url, { apiKey: KEY });
  await client.createCollection("k", { dimension: 2, metric: "dot" });
  await client.upsert("k", [{ id: 1n, vector: [1, 0] }]);
  const d = await client.getDigest("k");
  assert.equal(d.count, 1n);
  assert.equal((await client.nodeInfo()).role, "leader");
});
