/** An id (or any u64) as the caller may hold it. */
export type IdLike = bigint | number | string;

export const U64_MAX = (1n << 64n) - 1n;

/**
 * Checks a caller's u64 and returns it as a bigint. A `number` must be a safe integer
 * (above 2^53 a double has already lost digits — pass a bigint or a decimal string).
 */
export function toU64(value: IdLike, what = "id"): bigint {
  let n: bigint;
  if (typeof value === "bigint") {
    n = value;
  } else if (typeof value === "number") {
    if (!Number.isSafeInteger(value)) {
      throw new RangeError(
        `${what} ${value} is not a safe integer; pass a bigint or a decimal string for u64 values above 2^53`,
      );
    }
    n = BigInt(value);
  } else if (typeof value === "string") {
    if (!/^[0-9]{1,20}$/.test(value)) {
      throw new RangeError(`${what} ${JSON.stringify(value)} is not a decimal unsigned 64-bit integer`);
    }
    n = BigInt(value);
  } else {
    throw new TypeError(`${what} must be a bigint, number or decimal string, not ${typeof value}`);
  }
  if (n < 0n || n > U64_MAX) {
    throw new RangeError(`${what} ${n} is outside the unsigned 64-bit range`);
  }
  return n;
}

/** A caller's u64 as the decimal string sent on the wire. */
export function u64String(value: IdLike, what = "id"): string {
  return toU64(value, what).toString();
}

/** A u64 read from an answer made with `?u64=string` (a decimal string; a number is accepted too). */
export function fromWire(value: unknown, field: string): bigint {
  if (typeof value === "string" && /^[0-9]{1,20}$/.test(value)) {
    const n = BigInt(value);
    if (n <= U64_MAX) return n;
  }
  if (typeof value === "number" && Number.isSafeInteger(value) && value >= 0) {
    return BigInt(value);
  }
  throw new TypeError(`field ${field}: ${JSON.stringify(value)} is not an unsigned 64-bit integer`);
}
