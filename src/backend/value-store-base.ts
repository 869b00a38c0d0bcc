/**
 * What every value store is (the interface) and the rule for its keys, shared by the local
 * store (`./value-store.ts`) and the S3 store (`./value-store-s3.ts`) without either
 * importing the other.
 */

/** Where large values live, by hash. Writes are idempotent (content addressed). */
export interface ValueStore {
  /** The directory or `s3://` prefix, for messages. */
  readonly location: string;
  /** Stores the bytes of a value (a no-op if they are already there). */
  put(valueHash: string, bytes: Uint8Array): Promise<void>;
  /** The bytes of a value, or undefined when the store does not have it. */
  get(valueHash: string): Promise<Buffer | undefined>;
  /** Whether the store has a value. */
  has(valueHash: string): Promise<boolean>;
}

/** A value hash used as a file name: no separators, no dots. */
export function checkStoreKey(valueHash: string): string {
  if (!/^[A-Za-z0-9_-]+$/.test(valueHash))
    throw new Error(`"${valueHash}" is not a value hash that can name a file in the value store`);
  return valueHash;
}
