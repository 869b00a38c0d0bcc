/**
 * A bound on how many jobs an executor runs at once, served first come, first served.
 * A released slot is handed straight to the next waiter, so a newcomer can never slip in
 * between and exceed the bound.
 */
import { Fifo } from "../values/fifo.ts";

export class Slots {
  private used = 0;
  private readonly waiting = new Fifo<() => void>();

  constructor(private readonly size: number) {}

  /** Waits for a free slot and takes it. */
  async acquire(): Promise<void> {
    if (this.used >= this.size) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.used++;
  }

  /** Gives a slot back (to the next waiter, if any). */
  release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.used--;
  }

  /** Runs `fn` holding a slot. */
  async run<T>(fn: () => Promise<T>): Promise<T> {
    await this.acquire();
    try {
      return await fn();
    } finally {
      this.release();
    }
  }
}
