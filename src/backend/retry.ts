/**
 * Retrying database work that failed for a reason that goes away: a dropped or refused
 * connection, a PostgreSQL serialization failure or deadlock, a SQLite lock still held
 * after the busy timeout. The work must be safe to repeat (every write the backend makes
 * is an idempotent insert or upsert, inside one transaction).
 */

/** How often and how patiently to retry. */
export interface RetryPolicy {
  /** Tries in all, the first included (default 10). */
  attempts: number;
  /** Wait before the first retry, doubled each time (default 50 ms). */
  baseDelayMs: number;
  /** Longest wait between two tries (default 2000 ms). */
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 10, baseDelayMs: 50, maxDelayMs: 2000 };

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
 * error, up to `policy.attempts` tries. Other errors, and the last one, are thrown.
 */
export async function withRetry<T>(
  fn: (attempt: number) => Promise<T>,
  options: Partial<RetryPolicy> & { onRetry?: (error: unknown, attempt: number) => void } = {},
): Promise<T> {
  const policy = { ...DEFAULT_RETRY, ...options };
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (error) {
      if (attempt >= policy.attempts || !isTransientError(error)) throw error;
      options.onRetry?.(error, attempt);
      const delay = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
      // Jitter, so that two schedulers that collided do not collide again.
      await sleep(delay / 2 + Math.random() * (delay / 2));
    }
  }
}
