/** The error codes of DESIGN.md §5, plus two of the client's own. */
export type ErrorCode =
  | "invalid_argument"
  | "unauthenticated"
  | "not_found"
  | "method_not_allowed"
  | "already_exists"
  | "not_leader"
  | "payload_too_large"
  | "unavailable"
  /** No HTTP answer at all (connection refused, DNS, CORS, timeout): `status` is 0. */
  | "network_error"
  /** An answer that is not the JSON the API documents (e.g. a proxy's HTML page). */
  | "invalid_response";

/** Where the leader can be reached (carried by `not_leader` errors). */
export interface LeaderAddress {
  nodeId: string;
  httpAddr: string;
  grpcAddr: string;
}

/**
 * Every failure of a client call. `status` is the HTTP status (0 when no answer came),
 * `code` the §5 snake_case code (`not_found`, `invalid_argument`, …) and `serverMessage`
 * the node's own message. `message` combines the three for logs.
 */
export class HyperspaceError extends Error {
  override readonly name = "HyperspaceError";
  readonly status: number;
  readonly code: ErrorCode | (string & {});
  readonly serverMessage: string;
  /** Set on `not_leader`: the node that accepts writes. */
  readonly leader: LeaderAddress | undefined;

  constructor(
    status: number,
    code: ErrorCode | (string & {}),
    serverMessage: string,
    options: { leader?: LeaderAddress | undefined; cause?: unknown } = {},
  ) {
    super(`${code} (HTTP ${status}): ${serverMessage}`, { cause: options.cause });
    this.status = status;
    this.code = code;
    this.serverMessage = serverMessage;
    this.leader = options.leader;
  }
}
