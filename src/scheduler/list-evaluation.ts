/**
 * Evaluating a long list (a fan-out) a chunk per turn of the event loop: the first jobs run,
 * and their rows are written, while the rest are still being hashed and looked up. Only so
 * many chunks are unfinished at a time ({@link chunksInFlight}): each call in flight holds
 * a kilobyte or so (its suspended steps), and what outlives a few young-generation
 * collections ends up as old-generation garbage, so the more calls in flight, the larger
 * the heap; too few held a large fan-out back, whose claims wait behind large writes. A
 * long list is also where a run's heap grows large (see heap-growth.ts).
 */
import { limitHeapGrowthIfLarge } from "./heap-growth.ts";

/** Elements of a list started per turn of the event loop. */
export const EVALUATION_CHUNK = 500;
/**
 * Chunks of a list whose elements may be unfinished at a time: 8 for a list of up to
 * 20,000 calls, then more, up to 16 from 40,000 calls. Measured on the 2-core bench: a
 * 10,000-call fan-out peaked some 50 MB lower with 8 than with 16, as fast; a
 * 100,000-call fan-out took 14.6 s with 16, 15.4 s with 8 and 18–19 s with 4 (its claims
 * wait behind writes that grow with the database).
 */
export function chunksInFlight(length: number): number {
  return Math.min(16, Math.max(8, Math.ceil(length / 2_500)));
}

/** The values of a list's elements, evaluated by `evaluate` a chunk at a time, in order. */
export async function evaluateInChunks(
  values: readonly unknown[],
  evaluate: (value: unknown) => unknown,
): Promise<unknown[]> {
  const results: unknown[] = [];
  const inFlight = chunksInFlight(values.length) * EVALUATION_CHUNK;
  for (let i = 0; i < values.length; i += EVALUATION_CHUNK) {
    if (i > 0) {
      await new Promise((resolve) => setImmediate(resolve));
      limitHeapGrowthIfLarge();
    }
    const settled = i - inFlight;
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
