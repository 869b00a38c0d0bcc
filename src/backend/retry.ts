/**
 * Retrying database work that failed for a reason that goes away: a dropped or refused
 * connection, a PostgreSQL serialization failure or deadlock, a SQLite lock still held
 * after the busy timeout. The work must be safe to repeat (every write the backend makes
 * is an idempotent insert or upsert, inside one transaction).
 */
import { RedunError } from "../values/errors.ts";
import { registerErrorClass } from "../values/serialize.ts";

/** How often and how patiently to retry. */
export interface RetryPolicy {
  /** Tries in all, the first included (default 1000: in practice `maxWaitMs` decides). */
  attempts: number;
  /** Wait before the first retry, doubled each time (default 50 ms). */
  baseDelayMs: number;
  /** Longest wait between two tries (default 2000 ms). */
  maxDelayMs: number;
  /**
   * How long to keep retrying, from the first failure (default 300,000 ms: a database
   * restart or fail-over takes seconds to a minute or two, and a run must outlive it).
   */
  maxWaitMs: number;
}

/** `[backend] db_retries` and `db_retry_max_wait` (seconds) by default. */
export const DEFAULT_DB_RETRIES = 1000;
export const DEFAULT_DB_RETRY_MAX_WAIT_S = 300;

export const DEFAULT_RETRY: RetryPolicy = {
  attempts: DEFAULT_DB_RETRIES,
  baseDelayMs: 50,
  maxDelayMs: 2000,
  maxWaitMs: DEFAULT_DB_RETRY_MAX_WAIT_S * 1000,
};

/** The pause before retry number `failures` (1 for the first retry), with jitter. */
export function retryDelay(policy: RetryPolicy, failures: number): number {
  const delay = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.min(failures - 1, 30));
  // Jitter, so that two schedulers that collided do not collide again.
  return delay / 2 + Math.random() * (delay / 2);
}

/** Whether a policy's tries or time have run out after `failures` failures since `since`. */
export function retriesExhausted(policy: RetryPolicy, failures: number, since: number): boolean {
  return failures >= policy.attempts || performance.now() - since >= policy.maxWaitMs;
}

/** A duration for messages: "850 ms", "12 s", "5 min". */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 120_000) return `${Math.round(ms / 1000)} s`;
  return `${Math.round(ms / 60_000)} min`;
}

/** PostgreSQL SQLSTATE codes worth another try. */
const PG_TRANSIENT = new Set([
  "40001", // serialization_failure
  "40P01", // deadlock_detected
  "55P03", // lock_not_available
  "57P01", // admin_shutdown (the connection was terminated)
  "57P02", // crash_shutdown
  "57P03", // cannot_connect_now (starting up)
  "53300", // too_many_connections
]);

const NODE_TRANSIENT = new Set([
  "ECONNRESET",
  "ECONNREFUSED",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EAI_AGAIN",
]);

const MESSAGES = [
  /connection terminated/i,
  /connection (?:was )?(?:closed|reset|refused)/i,
  /not queryable/i,
  /timeout exceeded when trying to connect/i,
  /terminating connection/i,
  /server closed the connection/i,
];

/** Whether an error is one that a retry may get past. */
export function isTransientError(error: unknown): boolean {
  if (!error || typeof error !== "object") return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === "string") {
    if (PG_TRANSIENT.has(code) || code.startsWith("08")) return true;
    if (NODE_TRANSIENT.has(code)) return true;
    if (code === "SQLITE_BUSY" || code.startsWith("SQLITE_BUSY_") || code === "SQLITE_LOCKED")
      return true;
  }
  const message = (error as { message?: unknown }).message;
  if (typeof message === "string" && MESSAGES.some((m) => m.test(message))) return true;
  const cause = (error as { cause?: unknown }).cause;
  return cause !== undefined && cause !== error && isTransientError(cause);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Runs `fn`, and runs it again after a growing pause while it fails with a transient
 * error, up to `policy.attempts` tries and `policy.maxWaitMs` from the first failure.
 * Other errors, and the last one, are thrown.
 */
export async function withRetry<T>(
  fn: (attempt: number) => Promise<T>,
  options: Partial<RetryPolicy> & { onRetry?: (error: unknown, attempt: number) => void } = {},
): Promise<T> {
  const policy = { ...DEFAULT_RETRY, ...options };
  let since: number | undefined;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (error) {
      since ??= performance.now();
      if (!isTransientError(error) || retriesExhausted(policy, attempt, since)) throw error;
      options.onRetry?.(error, attempt);
      await sleep(retryDelay(policy, attempt));
    }
  }
}

/**
 * The database stayed unreachable (or kept failing) for longer than the configured
 * retrying: the run cannot record what it did, so it stops. Never a task's failure.
 */
export class DatabaseUnavailableError extends RedunError {
  override name = "DatabaseUnavailableError";
  override get code() {
    return "REDUN_DATABASE_UNAVAILABLE" as const;
  }
  constructor(
    /** The database, as `handle.location` names it (never with credentials). */
    readonly location: string,
    /** Records that were not written (0 for a failed read). */
    readonly unwritten: number,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
registerErrorClass(DatabaseUnavailableError);

/** The last error's message, short, for a {@link DatabaseUnavailableError}. */
export function causeText(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split("\n", 1)[0]!.trim() || String((error as { code?: unknown })?.code ?? "");
}

/**
 * The error of a backend that gave up writing `rows` records to `location`: after
 * `afterMs` of retrying, or (undefined) at once, for an error that retrying cannot fix.
 */
export function writeFailure(
  location: string,
  rows: number,
  afterMs: number | undefined,
  cause: unknown,
): DatabaseUnavailableError {
  const message =
    afterMs !== undefined
      ? `cannot write to the database ${location}: ${rows} records not written after ` +
        `${formatDuration(afterMs)} of retrying (${causeText(cause)}); finished jobs that ` +
        `were recorded will be replayed by a rerun`
      : `cannot write to the database ${location}: ${rows} records not written (${causeText(cause)})`;
  return new DatabaseUnavailableError(location, rows, message, { cause });
}
