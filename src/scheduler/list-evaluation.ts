/**
 * Evaluating a long list (a fan-out) a chunk per turn of the event loop: the first jobs run,
 * and their rows are written, while the rest are still being hashed and looked up. At most
 * {@link CHUNKS_IN_FLIGHT} chunks are unfinished at a time: each call waiting for a worker
 * holds some kilobytes (its suspended steps), so a fan-out of 100,000 would otherwise hold
 * them all at once, and fewer chunks held a large fan-out back (its claims wait behind
 * large writes). A long list is also where a run's heap grows large (see heap-growth.ts).
 */
import { limitHeapGrowthIfLarge } from "./heap-growth.ts";

/** Elements of a list started per turn of the event loop. */
export const EVALUATION_CHUNK = 500;
/** Chunks of a list whose elements may be unfinished at a time. */
const CHUNKS_IN_FLIGHT = 16;

/** The values of a list's elements, evaluated by `evaluate` a chunk at a time, in order. */
export async function evaluateInChunks(
  values: readonly unknown[],
  evaluate: (value: unknown) => unknown,
): Promise<unknown[]> {
  const results: unknown[] = [];
  for (let i = 0; i < values.length; i += EVALUATION_CHUNK) {
    if (i > 0) {
      await new Promise((resolve) => setImmediate(resolve));
      limitHeapGrowthIfLarge();
    }
    const settled = i - CHUNKS_IN_FLIGHT * EVALUATION_CHUNK;
    if (settled >= 0) await Promise.allSettled(results.slice(settled, settled + EVALUATION_CHUNK));
    for (let j = i; j < Math.min(i + EVALUATION_CHUNK, values.length); j++) {
      const result = evaluate(values[j]);
      // Handled by the Promise.all below; until then a failure must not count as unhandled.
      if (result instanceof Promise) result.catch(() => {});
      results.push(result);
    }
  }
  return Promise.all(results);
}
