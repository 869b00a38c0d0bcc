/**
 * How values are stored in the `value` table: the encodings of a row's bytes, the type name
 * recorded with each value, and the errors of values too large to record or gone missing.
 */
import { handlerForValue } from "../values/registry.ts";
import { RedunError } from "../values/errors.ts";
import { registerErrorClass } from "../values/serialize.ts";

/** How a value's bytes in the `value` table are encoded. */
export const VALUE_FORMAT = "redun-wire+json";

/**
 * The format of a value whose bytes are in the value store (the row holds no bytes); the
 * stored file is in {@link VALUE_FORMAT}.
 */
export const VALUE_REF_FORMAT = "ref";

/** Values at least this large go to the value store when only its path is configured. */
export const DEFAULT_VALUE_STORE_MIN_SIZE = 1_000_000;

/** A value too large to record. */
export class ValueTooLargeError extends RedunError {
  override name = "ValueTooLargeError";
  override get code() {
    return "REDUN_VALUE_TOO_LARGE" as const;
  }
}
registerErrorClass(ValueTooLargeError);

/** A value whose bytes cannot be found. */
export class ValueMissingError extends RedunError {
  override name = "ValueMissingError";
  override get code() {
    return "REDUN_VALUE_MISSING" as const;
  }
}
registerErrorClass(ValueMissingError);

/** A `value` row as stored. */
export interface StoredValue {
  value_hash: string;
  format: string;
  value: Uint8Array;
}

/** A short type name recorded with each value. */
export function valueTypeName(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  if (typeof value !== "object") return typeof value;
  const handler = handlerForValue(value);
  if (handler) return handler.name;
  const ctor = Object.getPrototypeOf(value)?.constructor;
  return ctor && ctor !== Object ? ctor.name : "object";
}
