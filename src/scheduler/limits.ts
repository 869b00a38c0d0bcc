/**
 * Resource limits (`[limits]` in redun.ini): named amounts that running jobs hold.
 * Waiters are served strictly first-come first-served, so a job asking for a lot is never
 * starved by a stream of small ones.
 */
import { Fifo } from "../values/fifo.ts";
import { RedunError } from "../values/errors.ts";
import { registerErrorClass } from "../values/serialize.ts";

/** A task asked for more of a limit than exists, or for an unknown one. */
export class LimitError extends RedunError {
  override name = "LimitError";
  override get code() {
    return "REDUN_LIMIT" as const;
  }
}
registerErrorClass(LimitError);

interface Waiter {
  amounts: Map<string, number>;
  grant: () => void;
}

/** What a job without limits gives back. */
const NOTHING_TO_RELEASE = () => {};

/** The available amounts of every named limit, and the queue of jobs waiting for them. */
export class LimitPool {
  private readonly available = new Map<string, number>();
  /** Waiters, oldest first (a fan-out of 100k jobs may wait on one limit). */
  private readonly queue = new Fifo<Waiter>();

  constructor(private readonly totals: Readonly<Record<string, number>>) {
    for (const [name, amount] of Object.entries(totals)) this.available.set(name, amount);
  }

  /**
   * Normalizes a task's `limits` option (`["db"]` or `{ db: 2 }`) and checks it can ever
   * be satisfied.
   * @throws LimitError for an unknown limit or an amount larger than the total.
   */
  normalize(
    limits: readonly string[] | Readonly<Record<string, number>> | undefined,
    task: string,
  ): Map<string, number> {
    const amounts = new Map<string, number>();
    if (!limits) return amounts;
    const entries: [string, number][] = Array.isArray(limits)
      ? (limits as string[]).map((name) => [name, 1])
      : Object.entries(limits as Record<string, number>);
    for (const [name, amount] of entries) {
      amounts.set(name, (amounts.get(name) ?? 0) + amount);
    }
    for (const [name, amount] of amounts) {
      const total = this.totals[name];
      if (total === undefined) {
        throw new LimitError(
          `task "${task}" uses limit "${name}", which is not defined in [limits] of redun.ini`,
        );
      }
      if (!Number.isInteger(amount) || amount < 0) {
        throw new LimitError(
          `task "${task}" asks for ${amount} of limit "${name}": amounts are whole numbers`,
        );
      }
      if (amount > total) {
        throw new LimitError(
          `task "${task}" asks for ${amount} of limit "${name}", but only ${total} exist`,
        );
      }
    }
    return amounts;
  }

  /**
   * Takes the amounts and returns the function that gives them back: at once when they are
   * available, else a promise of it, resolved when they are.
   */
  acquire(amounts: Map<string, number>): (() => void) | Promise<() => void> {
    if (amounts.size === 0) return NOTHING_TO_RELEASE;
    if (this.queue.length > 0 || !this.fits(amounts)) {
      return new Promise<void>((grant) => this.queue.push({ amounts, grant })).then(() =>
        this.releaser(amounts),
      );
    }
    this.take(amounts);
    return this.releaser(amounts);
  }

  private releaser(amounts: Map<string, number>): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      for (const [name, amount] of amounts)
        this.available.set(name, this.available.get(name)! + amount);
      this.serve();
    };
  }

  private fits(amounts: Map<string, number>): boolean {
    for (const [name, amount] of amounts) if (this.available.get(name)! < amount) return false;
    return true;
  }

  private take(amounts: Map<string, number>): void {
    for (const [name, amount] of amounts)
      this.available.set(name, this.available.get(name)! - amount);
  }

  private serve(): void {
    while (this.queue.length > 0 && this.fits(this.queue.peek()!.amounts)) {
      const waiter = this.queue.shift()!;
      this.take(waiter.amounts);
      waiter.grant();
    }
  }
}
