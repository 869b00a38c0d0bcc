/**
 * Throttling: AWS answers too many requests with ThrottlingException (or HTTP 429); the
 * caller waits longer after each throttled request, and returns to its normal pace after
 * a success.
 */

/** Whether an AWS SDK error means "slow down". */
export function isThrottling(error: unknown): boolean {
  const e = error as
    { name?: string; code?: string; $metadata?: { httpStatusCode?: number } } | undefined;
  const name = e?.name ?? e?.code ?? "";
  return (
    /Throttl|TooManyRequests|RequestLimitExceeded|SlowDown/i.test(name) ||
    e?.$metadata?.httpStatusCode === 429
  );
}

/** Exponential backoff with full jitter. */
export class Backoff {
  private failures = 0;

  /**
   * @param baseMs - the first wait's upper bound
   * @param maxMs - the largest wait
   * @param random - for tests (default Math.random)
   */
  constructor(
    private readonly baseMs = 1000,
    private readonly maxMs = 60_000,
    private readonly random: () => number = Math.random,
  ) {}

  /** Records a throttled request; returns how long to wait before the next one (ms). */
  fail(): number {
    this.failures++;
    const cap = Math.min(this.maxMs, this.baseMs * 2 ** (this.failures - 1));
    // Full jitter (between half the cap and the cap) spreads out clients throttled together.
    return Math.round(cap / 2 + (this.random() * cap) / 2);
  }

  /** Records a successful request. */
  succeed(): void {
    this.failures = 0;
  }

  /** Throttled requests since the last success. */
  get consecutiveFailures(): number {
    return this.failures;
  }
}

/**
 * Calls `fn`, and again after a backoff wait each time AWS throttles it (at most
 * `attempts` calls); other errors are thrown at once.
 */
export async function retryThrottled<T>(
  fn: () => Promise<T>,
  attempts = 8,
  backoff: Backoff = new Backoff(500, 30_000),
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (error) {
      if (!isThrottling(error) || attempt >= attempts) throw error;
      await new Promise((resolve) => setTimeout(resolve, backoff.fail()));
    }
  }
}
