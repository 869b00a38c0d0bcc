/**
 * The value store: large values kept as files (a local directory or an `s3://` prefix)
 * named by their hash, instead of as bytes in the database. The `value` row of such a
 * value has the format `ref` and no bytes. The S3 store (and the AWS SDK) is loaded only
 * when an `s3://` path is used.
 */
import fs from "node:fs";
import path from "node:path";
import { randomUUID } from "node:crypto";
import { checkStoreKey, type ValueStore } from "./value-store-base.ts";

export { checkStoreKey, type ValueStore };

/** A value store in a local directory: `DIR/ab/abcdef…` (the first two hex digits fan out). */
export class LocalValueStore implements ValueStore {
  constructor(readonly location: string) {}

  private file(valueHash: string): string {
    checkStoreKey(valueHash);
    return path.join(this.location, valueHash.slice(0, 2), valueHash);
  }

  async put(valueHash: string, bytes: Uint8Array): Promise<void> {
    const file = this.file(valueHash);
    if (fs.existsSync(file)) return;
    await fs.promises.mkdir(path.dirname(file), { recursive: true });
    // Written aside and renamed, so a reader never sees half a value.
    const temp = `${file}.${randomUUID()}.tmp`;
    await fs.promises.writeFile(temp, bytes);
    await fs.promises.rename(temp, file);
  }

  async get(valueHash: string): Promise<Buffer | undefined> {
    try {
      return await fs.promises.readFile(this.file(valueHash));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw error;
    }
  }

  async has(valueHash: string): Promise<boolean> {
    return fs.existsSync(this.file(valueHash));
  }
}

/**
 * Opens the value store at a local directory (absolute, or relative to the working
 * directory) or an `s3://bucket/prefix/`.
 */
export async function openValueStore(location: string): Promise<ValueStore> {
  if (location.startsWith("s3://")) {
    const { S3ValueStore } = await import("./value-store-s3.ts");
    return new S3ValueStore(location);
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(location) && !location.startsWith("file://"))
    throw new Error(`value_store_path "${location}": expected a local directory or s3:// prefix`);
  const dir = location.startsWith("file://") ? new URL(location).pathname : location;
  return new LocalValueStore(path.resolve(dir));
}
