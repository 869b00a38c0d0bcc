/**
 * The live progress display of `redun run` on an interactive terminal: the job table (jobs
 * pending, running, failed, cached and done per task) with the time elapsed, redrawn in
 * place below the job lines, which scroll above it. log-update does the drawing. On a pipe,
 * in CI or with TERM=dumb there is no display: the scheduler prints plain lines and its
 * usual job tables.
 */
import type { Scheduler } from "../scheduler/scheduler.ts";

/** How often the display is redrawn. */
const REDRAW_MS = 200;

/**
 * Whether a stream is a terminal a display can redraw in place (one that reports its size:
 * a terminal of 0 rows would clip the lines printed above the display too).
 */
export function canShowProgress(stream: NodeJS.WriteStream, env = process.env): boolean {
  return (
    Boolean(stream.isTTY) &&
    (stream.rows ?? 0) > 0 &&
    (stream.columns ?? 0) > 0 &&
    !env.CI &&
    env.TERM !== "dumb"
  );
}

/**
 * Starts the display for a run of `scheduler` on `stream` (standard error); returns the
 * function that stops it, leaving the terminal as plain lines.
 */
export async function startProgress(
  scheduler: Scheduler,
  stream: NodeJS.WriteStream = process.stderr,
): Promise<() => void> {
  const { createLogUpdate } = await import("log-update");
  const display = createLogUpdate(stream, { showCursor: true });
  const started = performance.now();
  const frame = () => {
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    return scheduler.status.format(`Progress (${seconds} s)`).trimEnd();
  };
  // Job lines scroll above the display.
  scheduler.setOutput((text) => display.persist(text.trimEnd()), { statusTables: false });
  // Drawn at once, so that even a run shorter than one redraw shows it.
  display(frame());
  const timer = setInterval(() => display(frame()), REDRAW_MS);
  timer.unref();
  return () => {
    clearInterval(timer);
    display.clear();
    scheduler.setOutput((text) => stream.write(text));
  };
}
