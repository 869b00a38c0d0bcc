/**
 * A first-in, first-out queue with constant-time `shift`. `Array.prototype.shift` copies the
 * whole array once it is large (V8 cannot trim big arrays in place), which makes draining a
 * queue of 100,000 jobs quadratic; this one moves a head index and drops the served prefix
 * now and then (amortized constant time).
 */
export class Fifo<T> {
  private items: (T | undefined)[] = [];
  private head = 0;

  /** How many items wait. */
  get length(): number {
    return this.items.length - this.head;
  }

  /** Adds an item at the end. */
  push(item: T): void {
    this.items.push(item);
  }

  /** The first item, without taking it. */
  peek(): T | undefined {
    return this.items[this.head];
  }

  /** Takes the first item. */
  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head];
    this.items[this.head++] = undefined;
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }

  /** Takes every item, oldest first. */
  drain(): T[] {
    const rest = this.items.slice(this.head) as T[];
    this.items = [];
    this.head = 0;
    return rest;
  }
}
