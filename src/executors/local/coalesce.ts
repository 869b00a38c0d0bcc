/**
 * Messages between the pool and its workers, gathered: those sent in one turn go as one
 * batch. A fan-out of tiny tasks otherwise pays a message (a structured clone and a wake-up
 * of the other side) per job each way, which costs more than the jobs themselves.
 */

/** Several messages sent as one. */
export interface Batch<T> {
  type: "batch";
  messages: T[];
}

/**
 * A `send` that gathers messages until `schedule` runs its callback (a microtask, or the
 * next turn of the event loop), then posts them: one alone as it is, several as a batch.
 */
export function coalescing<T>(
  post: (message: T | Batch<T>) => void,
  schedule: (flush: () => void) => void,
): Coalescing<T> {
  let pending: T[] = [];
  const flush = () => {
    if (pending.length === 0) return;
    const messages = pending;
    pending = [];
    post(messages.length === 1 ? messages[0]! : { type: "batch", messages });
  };
  const send = (message: T) => {
    pending.push(message);
    if (pending.length === 1) schedule(flush);
  };
  send.now = (message: T) => {
    send(message);
    flush();
  };
  return send;
}

/** A gathering `send`; `now` sends at once, with what was gathered before it. */
export interface Coalescing<T> {
  (message: T): void;
  now(message: T): void;
}

/** Handles a message, or each message of a batch, in order. */
export function eachMessage<T>(message: T | Batch<T>, handle: (message: T) => void): void {
  if ((message as Batch<T> | undefined)?.type === "batch") {
    for (const m of (message as Batch<T>).messages) handle(m);
  } else {
    handle(message as T);
  }
}
