/**
 * Batches lookups made in the same tick into one query: thousands of concurrent cache
 * lookups become a few `WHERE key IN (...)` queries instead of thousands of round trips.
 */

/** Loads many keys at once; returns a map from key to its value (missing keys: no entry). */
export type BatchFetch<V> = (keys: string[]) => Promise<Map<string, V>>;

const MAX_BATCH = 500;

/** Coalesces `load(key)` calls into batched fetches. */
export class BatchLoader<V> {
  private pending = new Map<
    string,
    { resolve(v: V | undefined): void; reject(e: unknown): void }[]
  >();
  private scheduled = false;

  constructor(private readonly fetch: BatchFetch<V>) {}

  /** The value for a key, or undefined; fetched together with the other keys of this tick. */
  load(key: string): Promise<V | undefined> {
    return new Promise((resolve, reject) => {
      const waiters = this.pending.get(key);
      if (waiters) waiters.push({ resolve, reject });
      else this.pending.set(key, [{ resolve, reject }]);
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.dispatch());
      }
    });
  }

  private dispatch(): void {
    this.scheduled = false;
    const batch = this.pending;
    this.pending = new Map();
    const keys = [...batch.keys()];
    for (let i = 0; i < keys.length; i += MAX_BATCH) {
      const slice = keys.slice(i, i + MAX_BATCH);
      this.fetch(slice).then(
        (found) => {
          for (const key of slice) for (const w of batch.get(key)!) w.resolve(found.get(key));
        },
        (error) => {
          for (const key of slice) for (const w of batch.get(key)!) w.reject(error);
        },
      );
    }
  }
}
