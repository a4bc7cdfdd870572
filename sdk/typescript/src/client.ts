import { HyperspaceError, type LeaderAddress } from "./errors.js";
import type {
  BucketListing,
  ClusterInfo,
  Collection,
  Digest,
  DigestDiff,
  FollowerInfo,
  Metric,
  NodeAddress,
  NodeInfo,
  Payload,
  Point,
  PointInput,
  ScoredPoint,
  ScrollOptions,
  ScrollPage,
  SearchRequest,
  WriteResult,
} from "./types.js";
import { fromWire, u64String, type IdLike } from "./u64.js";

export const DEFAULT_URL = "http://127.0.0.1:50050";

export interface ClientOptions {
  /** Sent as `x-api-key` on every `/api` request. */
  apiKey?: string;
  /** A `fetch` to use instead of the platform's (tests, proxies, custom agents). */
  fetch?: typeof fetch;
  /** Abort a request after this many milliseconds (no limit by default). */
  timeoutMs?: number;
  /** Extra headers sent on every request. */
  headers?: Record<string, string>;
}

type Json = Record<string, unknown>;

/**
 * A client of one HyperspaceDB node's REST API (DESIGN.md §5).
 *
 * Every request asks for `?u64=string`, and every u64 in an answer (ids, hashes, clocks,
 * LSNs, counts) comes back as a `bigint`, so nothing above 2^53 is rounded. Payloads are
 * returned exactly as `JSON.parse` reads them.
 */
export class HyperspaceClient {
  readonly baseUrl: string;
  readonly #apiKey: string | undefined;
  readonly #fetch: typeof fetch;
  readonly #timeoutMs: number | undefined;
  readonly #headers: Record<string, string>;

  constructor(baseUrl: string = DEFAULT_URL, options: ClientOptions = {}) {
    this.baseUrl = baseUrl.replace(/\/+$/, "");
    this.#apiKey = options.apiKey;
    const f = options.fetch ?? globalThis.fetch;
    if (typeof f !== "function") {
      throw new TypeError("no fetch on this platform: pass options.fetch");
    }
    // Bound so a browser's fetch is not called with the client as `this`.
    this.#fetch = options.fetch ?? globalThis.fetch.bind(globalThis);
    this.#timeoutMs = options.timeoutMs;
    this.#headers = { ...(options.headers ?? {}) };
  }

  // ---- collections ----

  async createCollection(
    name: string,
    options: { dimension: number; metric: Metric },
  ): Promise<Collection> {
    const body = JSON.stringify({ name, dimension: options.dimension, metric: options.metric });
    return this.#request("POST", "/collections", toCollection, body);
  }

  async listCollections(): Promise<Collection[]> {
    return this.#request("GET", "/collections", (a) =>
      array(a["collections"], "collections").map((c) => toCollection(object(c, "collection"))),
    );
  }

  async getCollection(name: string): Promise<Collection> {
    return this.#request("GET", `/collections/${seg(name)}`, toCollection);
  }

  async dropCollection(name: string): Promise<WriteResult> {
    return this.#request("DELETE", `/collections/${seg(name)}`, toWrite);
  }

  // ---- points ----

  /** Inserts or replaces points (1..=10,000 per call). */
  async upsert(collection: string, points: readonly PointInput[]): Promise<WriteResult> {
    const parts = points.map((p, i) => {
      let json = `{"id":"${u64String(p.id, `points[${i}].id`)}","vector":${vectorJson(p.vector, `points[${i}].vector`)}`;
      if (p.payload !== undefined) json += `,"payload":${objectJson(p.payload, `points[${i}].payload`)}`;
      return json + "}";
    });
    const body = `{"points":[${parts.join(",")}]}`;
    return this.#request("PUT", `/collections/${seg(collection)}/points`, toWrite, body);
  }

  /** One point; throws `not_found` when it does not exist. */
  async get(collection: string, id: IdLike): Promise<Point> {
    return this.#request("GET", `/collections/${seg(collection)}/points/${u64String(id)}`, toPoint);
  }

  async delete(collection: string, ids: IdLike | readonly IdLike[]): Promise<WriteResult> {
    const list = Array.isArray(ids) ? (ids as readonly IdLike[]) : [ids as IdLike];
    const body = JSON.stringify({ ids: list.map((id, i) => u64String(id, `ids[${i}]`)) });
    return this.#request("POST", `/collections/${seg(collection)}/points/delete`, toWrite, body);
  }

  /** One page of points in id order. */
  async scroll(collection: string, options: ScrollOptions = {}): Promise<ScrollPage> {
    const query: Record<string, string> = {};
    if (options.after !== undefined) query["after"] = u64String(options.after, "after");
    if (options.limit !== undefined) query["limit"] = String(options.limit);
    return this.#request(
      "GET",
      `/collections/${seg(collection)}/points`,
      (a) => {
        const next = a["next_after"];
        return {
          points: array(a["points"], "points").map((p) => toPoint(object(p, "point"))),
          nextAfter: next === null || next === undefined ? null : fromWire(next, "next_after"),
        };
      },
      undefined,
      query,
    );
  }

  /** Every point in id order, fetched page by page. */
  async *scrollAll(collection: string, options: { limit?: number } = {}): AsyncGenerator<Point, void, undefined> {
    let after: bigint | undefined;
    for (;;) {
      const page = await this.scroll(collection, { after, limit: options.limit });
      yield* page.points;
      if (page.nextAfter === null) return;
      after = page.nextAfter;
    }
  }

  // ---- search ----

  async search(collection: string, request: SearchRequest): Promise<ScoredPoint[]> {
    return this.#request("POST", `/collections/${seg(collection)}/search`, toResults, searchJson(request, "search"));
  }

  /** Many searches in one call (≤ 1,000), answered in order. */
  async searchBatch(collection: string, requests: readonly SearchRequest[]): Promise<ScoredPoint[][]> {
    const body = `{"searches":[${requests.map((r, i) => searchJson(r, `searches[${i}]`)).join(",")}]}`;
    return this.#request(
      "POST",
      `/collections/${seg(collection)}/search/batch`,
      (a) =>
        array(a["results"], "results").map((list, i) =>
          array(list, `results[${i}]`).map((r) => toScored(object(r, "result"))),
        ),
      body,
    );
  }

  // ---- digest and drill-down ----

  /** The collection's digest (DESIGN.md §3) with every u64 as a bigint. */
  async getDigest(collection = "default"): Promise<Digest> {
    return this.#request("GET", `/collections/${seg(collection)}/digest`, (a) => ({
      collectionName: string(a["collection_name"], "collection_name"),
      logicalClock: fromWire(a["logical_clock"], "logical_clock"),
      stateHash: fromWire(a["state_hash"], "state_hash"),
      count: fromWire(a["count"], "count"),
      buckets: array(a["buckets"], "buckets").map((b, i) => fromWire(b, `buckets[${i}]`)),
      bucketCounts: array(a["bucket_counts"], "bucket_counts").map((b, i) => fromWire(b, `bucket_counts[${i}]`)),
      stateHashHex: string(a["state_hash_hex"], "state_hash_hex"),
    }));
  }

  /** Ids and entry hashes of one bucket (0..=255). */
  async listBucket(collection: string, bucket: number): Promise<BucketListing> {
    if (!Number.isInteger(bucket) || bucket < 0 || bucket > 255) {
      throw new RangeError(`bucket ${bucket} is not an integer in 0..=255`);
    }
    return this.#request("GET", `/collections/${seg(collection)}/buckets/${bucket}`, (a) => ({
      bucket: Number(fromWire(a["bucket"], "bucket")),
      entries: array(a["entries"], "entries").map((e) => {
        const entry = object(e, "entry");
        return { id: fromWire(entry["id"], "id"), entryHash: fromWire(entry["entry_hash"], "entry_hash") };
      }),
    }));
  }

  /** Compares two digests; see {@link diff}. */
  diff(a: Digest, b: Digest): DigestDiff {
    return diff(a, b);
  }

  // ---- node ----

  async nodeInfo(): Promise<NodeInfo> {
    return this.#request("GET", "/node", toNode);
  }

  async clusterInfo(): Promise<ClusterInfo> {
    return this.#request("GET", "/cluster", (a) => ({
      ...toNode(a),
      leader: toAddress(object(a["leader"], "leader")),
      followers: array(a["followers"] ?? [], "followers").map((f): FollowerInfo => {
        const o = object(f, "follower");
        return {
          ...toAddress(o),
          connected: o["connected"] === true,
          appliedLsn: fromWire(o["applied_lsn"], "applied_lsn"),
          lagRecords: fromWire(o["lag_records"], "lag_records"),
        };
      }),
    }));
  }

  // ---- transport ----

  /** Sends one request and decodes its JSON answer; every failure is a HyperspaceError. */
  async #request<T>(
    method: string,
    path: string,
    decode: (answer: Json) => T,
    body?: string,
    query: Record<string, string> = {},
  ): Promise<T> {
    const params = new URLSearchParams({ u64: "string", ...query });
    const url = `${this.baseUrl}/api${path}?${params.toString()}`;
    const headers: Record<string, string> = { accept: "application/json", ...this.#headers };
    if (body !== undefined) headers["content-type"] = "application/json";
    if (this.#apiKey !== undefined) headers["x-api-key"] = this.#apiKey;
    const init: RequestInit = { method, headers };
    if (body !== undefined) init.body = body;
    if (this.#timeoutMs !== undefined) init.signal = AbortSignal.timeout(this.#timeoutMs);

    let response: Response;
    let text: string;
    try {
      response = await this.#fetch(url, init);
      text = await response.text();
    } catch (cause) {
      const why = cause instanceof Error ? cause.message : String(cause);
      throw new HyperspaceError(0, "network_error", `${method} ${url}: ${why}`, { cause });
    }

    let parsed: unknown;
    try {
      parsed = text === "" ? {} : JSON.parse(text);
    } catch (cause) {
      if (!response.ok) {
        throw new HyperspaceError(response.status, httpCode(response.status), text.slice(0, 500) || response.statusText);
      }
      throw new HyperspaceError(response.status, "invalid_response", `${method} ${path}: answer is not JSON`, { cause });
    }

    if (!response.ok) {
      const error = isObject(parsed) && isObject(parsed["error"]) ? parsed["error"] : undefined;
      const code = typeof error?.["code"] === "string" ? error["code"] : httpCode(response.status);
      const message = typeof error?.["message"] === "string" ? error["message"] : response.statusText || text.slice(0, 500);
      const leader = isObject(error?.["leader"]) ? toLeader(error["leader"]) : undefined;
      throw new HyperspaceError(response.status, code, message, { leader });
    }
    if (!isObject(parsed)) {
      throw new HyperspaceError(response.status, "invalid_response", `${method} ${path}: answer is not a JSON object`);
    }
    try {
      return decode(parsed);
    } catch (cause) {
      const why = cause instanceof Error ? cause.message : String(cause);
      throw new HyperspaceError(response.status, "invalid_response", `${method} ${path}: ${why}`, { cause });
    }
  }
}

/**
 * Compares two digests of the same collection (e.g. leader and follower). `comparable` is
 * true when their logical clocks are equal — only then does a differing bucket mean drift
 * rather than lag. `buckets` lists the buckets whose hash or count differ.
 */
export function diff(a: Digest, b: Digest): DigestDiff {
  const n = Math.max(a.buckets.length, b.buckets.length);
  const buckets: number[] = [];
  for (let i = 0; i < n; i++) {
    if (a.buckets[i] !== b.buckets[i] || a.bucketCounts[i] !== b.bucketCounts[i]) buckets.push(i);
  }
  return { comparable: a.logicalClock === b.logicalClock, buckets };
}

// ---- request encoding ----
// Bodies are written by hand where JSON.stringify would lose something: it writes -0 as 0,
// and a vector's -0.0 is part of the digest.

function seg(name: string): string {
  return encodeURIComponent(name);
}

function vectorJson(vector: ArrayLike<number>, what: string): string {
  if (vector === null || typeof vector !== "object" || typeof vector.length !== "number") {
    throw new TypeError(`${what} must be an array of numbers`);
  }
  const parts: string[] = new Array(vector.length);
  for (let i = 0; i < vector.length; i++) {
    const x = vector[i];
    if (typeof x !== "number" || !Number.isFinite(x)) {
      throw new TypeError(`${what}[${i}] = ${String(x)} is not a finite number`);
    }
    parts[i] = Object.is(x, -0) ? "-0.0" : JSON.stringify(x);
  }
  return `[${parts.join(",")}]`;
}

function objectJson(value: unknown, what: string): string {
  if (!isObject(value)) throw new TypeError(`${what} must be a JSON object`);
  return JSON.stringify(value);
}

function searchJson(r: SearchRequest, what: string): string {
  let json = `{"vector":${vectorJson(r.vector, `${what}.vector`)},"top_k":${JSON.stringify(r.topK)}`;
  if (r.filter !== undefined) json += `,"filter":${objectJson(r.filter, `${what}.filter`)}`;
  if (r.ef !== undefined) json += `,"ef":${JSON.stringify(r.ef)}`;
  return json + "}";
}

// ---- answer decoding ----

function isObject(v: unknown): v is Json {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function object(v: unknown, field: string): Json {
  if (!isObject(v)) throw new TypeError(`field ${field} is not a JSON object`);
  return v;
}

function array(v: unknown, field: string): unknown[] {
  if (!Array.isArray(v)) throw new TypeError(`field ${field} is not a JSON array`);
  return v;
}

function string(v: unknown, field: string): string {
  if (typeof v !== "string") throw new TypeError(`field ${field} is not a string`);
  return v;
}

function number(v: unknown, field: string): number {
  if (typeof v !== "number") throw new TypeError(`field ${field} is not a number`);
  return v;
}

function httpCode(status: number): string {
  const codes: Record<number, string> = {
    400: "invalid_argument",
    401: "unauthenticated",
    404: "not_found",
    405: "method_not_allowed",
    409: "already_exists",
    413: "payload_too_large",
    503: "unavailable",
  };
  return codes[status] ?? `http_${status}`;
}

function toCollection(a: Json): Collection {
  const c: Collection = {
    name: string(a["name"], "name"),
    dimension: number(a["dimension"], "dimension"),
    metric: string(a["metric"], "metric"),
    count: fromWire(a["count"], "count"),
    logicalClock: fromWire(a["logical_clock"] ?? 0, "logical_clock"),
  };
  if (typeof a["index"] === "string") c.index = a["index"];
  return c;
}

function toWrite(a: Json): WriteResult {
  const w: WriteResult = {
    lsn: fromWire(a["lsn"], "lsn"),
    logicalClock: fromWire(a["logical_clock"], "logical_clock"),
  };
  if (a["upserted"] !== undefined) w.upserted = fromWire(a["upserted"], "upserted");
  if (a["deleted"] !== undefined) w.deleted = fromWire(a["deleted"], "deleted");
  return w;
}

function toPoint(a: Json): Point {
  return {
    id: fromWire(a["id"], "id"),
    // The node writes an f32 either in its shortest form (0.1) or widened (0.10000000149011612)
    // depending on the route; Math.fround gives the same exact f32 value in both cases.
    vector: array(a["vector"], "vector").map((x, i) => Math.fround(number(x, `vector[${i}]`))),
    payload: (a["payload"] === undefined || a["payload"] === null ? {} : object(a["payload"], "payload")) as Payload,
  };
}

function toScored(a: Json): ScoredPoint {
  return {
    id: fromWire(a["id"], "id"),
    score: Math.fround(number(a["score"], "score")),
    payload: (a["payload"] === undefined || a["payload"] === null ? {} : object(a["payload"], "payload")) as Payload,
  };
}

function toResults(a: Json): ScoredPoint[] {
  return array(a["results"], "results").map((r) => toScored(object(r, "result")));
}

function toNode(a: Json): NodeInfo {
  return {
    nodeId: string(a["node_id"], "node_id"),
    role: string(a["role"], "role"),
    version: string(a["version"], "version"),
    httpAddr: string(a["http_addr"], "http_addr"),
    grpcAddr: string(a["grpc_addr"], "grpc_addr"),
    lastLsn: fromWire(a["last_lsn"], "last_lsn"),
    logicalClock: fromWire(a["logical_clock"], "logical_clock"),
  };
}

function toAddress(a: Json): NodeAddress {
  return {
    nodeId: string(a["node_id"], "node_id"),
    httpAddr: string(a["http_addr"], "http_addr"),
    grpcAddr: string(a["grpc_addr"], "grpc_addr"),
  };
}

function toLeader(a: Json): LeaderAddress | undefined {
  try {
    return toAddress(a);
  } catch {
    return undefined;
  }
}
