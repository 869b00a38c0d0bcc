/**
 * The abort signal of the task running now: `currentSignal()` inside a task function (and
 * anything it awaits) returns the signal of its job, which fires when the job's `timeout`
 * passes (inline mode) or the run is stopped for good (a second Ctrl-C). Pass it on to what
 * can stop early: `fetch(url, { signal: currentSignal() })`.
 */
import { AsyncLocalStorage } from "node:async_hooks";

const storage = new AsyncLocalStorage<AbortSignal>();

/** A signal that never fires, for code running outside a job. */
const NEVER = new AbortController().signal;

/**
 * The abort signal of the job whose task is running (found through the async call chain,
 * so it works in callbacks and after `await`). Outside a task it is a signal that never
 * fires. It fires in inline mode, where a task shares the scheduler's thread and cannot be
 * stopped otherwise; in thread and process modes a job past its limit is stopped by
 * stopping its worker, so the signal there never needs to fire.
 *
 * @example
 * export const fetchPage = task(async function fetchPage(url: string) {
 *   const response = await fetch(url, { signal: currentSignal() });
 *   return response.text();
 * });
 */
export function currentSignal(): AbortSignal {
  return storage.getStore() ?? NEVER;
}

/** Runs `fn` with `signal` as the current task's signal. @internal (for run-task.ts) */
export function runWithSignal<T>(signal: AbortSignal, fn: () => T): T {
  return storage.run(signal, fn);
}
