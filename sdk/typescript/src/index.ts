export { HyperspaceClient, diff, DEFAULT_URL, type ClientOptions } from "./client.js";
export { HyperspaceError, type ErrorCode, type LeaderAddress } from "./errors.js";
export { toU64, u64String, U64_MAX, type IdLike } from "./u64.js";
export type * from "./types.js";
