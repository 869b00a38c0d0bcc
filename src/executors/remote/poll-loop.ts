/**
 * The loop of a remote job monitor (AWS Batch, AWS Glue): while something is watched, wait,
 * then poll; each poll says how long to wait before the next (longer while the service
 * throttles). Stopping wakes the wait, so a stopped monitor ends at once.
 */
export class PollLoop {
  private looping = false;
  private wake: (() => void) | undefined;
  /** Set by {@link stop}: the loop ends and the monitor takes no new work until resumed. */
  stopped = false;

  /**
   * @param intervalMs - the first wait.
   * @param hasWork - whether anything is still watched (the loop ends when not).
   * @param poll - one round; resolves with the wait before the next.
   */
  constructor(
    private readonly intervalMs: number,
    private readonly hasWork: () => boolean,
    private readonly poll: () => Promise<number>,
  ) {}

  /** Starts the loop, unless it is running. */
  start(): void {
    if (this.looping) return;
    this.looping = true;
    void this.run();
  }

  /** Ends the loop (waking its wait). */
  stop(): void {
    this.stopped = true;
    this.wake?.();
  }

  /** Lets work be taken again after a stop. */
  resume(): void {
    this.stopped = false;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  private async run(): Promise<void> {
    try {
      let delay = this.intervalMs;
      while (this.hasWork() && !this.stopped) {
        await this.sleep(delay);
        if (this.stopped) return;
        delay = await this.poll();
      }
    } finally {
      // Cleared in the same tick the loop sees no work, so work added next starts a new loop.
      this.looping = false;
    }
  }
}
