/**
 * A large run trades a little time for memory. After each full garbage collection V8 lets
 * the heap grow to several times what survived when the program allocates fast, as a
 * scheduler does: a fan-out of 100,000 calls peaked at 1.2 GB of RSS with a third of its
 * heap alive. Once the used heap passes {@link LARGE_HEAP_BYTES}, it may grow by
 * {@link HEAP_GROWING_PERCENT} at most (V8's `--heap-growing-percent`, for the whole
 * process): that fan-out then peaks at 0.8–0.85 GB, some 5% slower. Smaller runs keep V8's
 * default, which collects less often. A heap-growth flag given to Node is left as it is.
 */
import { v8 } from "../values/lazy-builtins.ts";

/** The used heap past which growth is limited (a fan-out of 10,000 calls uses ~140 MB). */
export const LARGE_HEAP_BYTES = 192 * 1024 * 1024;
/** How much the heap may grow past what survived a full collection. */
export const HEAP_GROWING_PERCENT = 50;

let checked = false;

/**
 * Limits the heap's growth once the heap is large; cheap enough to call now and then.
 * @returns true when this call set the limit.
 */
export function limitHeapGrowthIfLarge(): boolean {
  if (checked || v8().getHeapStatistics().used_heap_size < LARGE_HEAP_BYTES) return false;
  checked = true;
  const given = [...process.execArgv, process.env.NODE_OPTIONS ?? ""].join(" ");
  if (/heap[-_]growing[-_]percent/.test(given)) return false;
  v8().setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
  return true;
}
