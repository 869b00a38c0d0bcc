/**
 * Live updates, as Server-Sent Events: the server reads what a page shows every
 * {@link POLL_MS} and sends an `update` event when it changed (the page then reloads its
 * live fragment); for an execution, a `done` event once it is no longer running, and the
 * stream ends. The database is the only source: any process's run shows up, whether this
 * server started it or not.
 */
import type { Context } from "hono";
import { streamSSE } from "hono/streaming";

/** How often a stream reads the database. */
export const POLL_MS = 1000;

/** Longest a stream stays open (the browser's EventSource reconnects after it). */
const MAX_STREAM_MS = 30 * 60_000;

/**
 * Streams events for a page: `state()` reads what it shows as a string (a change sends
 * `update`) and whether it is finished (which sends `done` and ends the stream). A failed
 * read (the database unreachable for a moment) is tried again on the next tick.
 */
export function liveEvents(
  c: Context,
  state: () => Promise<{ signature: string; finished: boolean }>,
): Response {
  return streamSSE(c, async (stream) => {
    let aborted = false;
    stream.onAbort(() => {
      aborted = true;
    });
    let last: string | undefined;
    const started = Date.now();
    while (!aborted && Date.now() - started < MAX_STREAM_MS) {
      try {
        const { signature, finished } = await state();
        if (last !== undefined && signature !== last)
          await stream.writeSSE({ event: "update", data: signature.slice(0, 200) });
        last = signature;
        if (finished) {
          await stream.writeSSE({ event: "done", data: "" });
          return;
        }
      } catch {
        // Unreachable for now: try again on the next tick.
      }
      await stream.sleep(POLL_MS);
    }
  });
}
