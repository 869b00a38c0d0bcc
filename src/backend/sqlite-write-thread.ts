/**
 * SQLite writes on a thread of their own. A large run spends much of its scheduler's time in
 * SQLite's index maintenance; on its own thread (and connection, in WAL mode) that work
 * overlaps with scheduling, while reads stay on the scheduler's connection. Each batch is
 * still one transaction, written in the order sent, so what lands is what the in-thread
 * path (`SqliteWriter`) writes.
 */
import type { Worker } from "node:worker_threads";
import { workerThreads } from "../values/lazy-builtins.ts";
import { withRetry, type RetryPolicy } from "./retry.ts";
import type { RowBatch, WriteMode } from "./writes.ts";
import type { ClaimRelease, Claims } from "./call-claims.ts";
import { RedunError } from "../values/errors.ts";
import { codeUrl } from "../values/package-root.ts";

/** Scheduler → writer thread: a batch of rows, call claims (see call-claims.ts), or the end. */
export type WriteRequest =
  | {
      type: "write";
      id: number;
      batch: RowBatch;
      mode: WriteMode;
      releases: readonly ClaimRelease[];
    }
  | { type: "claim"; id: number; holder: string; evalHashes: readonly string[]; leaseMs: number }
  | { type: "close" };

/**
 * Writer thread → scheduler (first `ready`, once its connection is open): rows changed by a
 * write, the eval hashes a claim got, or an error.
 */
export type WriteReply =
  | { ready: true }
  | ({ id: number; error?: undefined } & WriteDone)
  | { id: number; error: { name: string; message: string; code?: string } };

/** What a request did: rows changed, or for a claim, the calls held and those recorded. */
interface WriteDone {
  changed: number;
  claimed?: string[];
  recorded?: string[];
}

/** The writer thread stopped: its pending writes are unknown (rewriting them is harmless). */
export class WriteThreadExitedError extends RedunError {
  override name = "WriteThreadExitedError";
  override get code() {
    return "REDUN_WRITE_THREAD_EXITED" as const;
  }
}

interface Pending {
  resolve(reply: WriteDone): void;
  reject(error: unknown): void;
}

/** A writer thread for one SQLite file. */
export class SqliteWriteThread {
  private readonly worker: Worker;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private exited: Error | undefined;
  private opened = false;
  private readonly done: Promise<void>;

  constructor(file: string) {
    this.worker = new (workerThreads().Worker)(codeUrl("backend/sqlite-write-entry.mjs"), {
      workerData: { file },
      // It holds rows only until written: a small young generation keeps its heap small.
      resourceLimits: { maxYoungGenerationSizeMb: 6 },
    });
    // Only a write in flight keeps the process alive (see send()).
    this.worker.unref();
    this.worker.on("message", (reply: WriteReply) => this.settle(reply));
    this.worker.on("error", (error) => (this.exited ??= error));
    this.done = new Promise((resolve) =>
      this.worker.once("exit", (code) => {
        this.exited ??= new WriteThreadExitedError(`the SQLite writer thread exited (${code})`);
        for (const { reject } of this.pending.values()) reject(this.exited);
        this.pending.clear();
        resolve();
      }),
    );
  }

  /**
   * Whether the thread has its connection open: until then (some tens of milliseconds of
   * loading) writes are better made on the caller's own connection than queued here.
   */
  get ready(): boolean {
    return this.opened && !this.exited;
  }

  /** Writes a batch in one transaction, retried as a whole on transient errors. */
  write(
    batch: RowBatch,
    mode: WriteMode,
    retry: Partial<RetryPolicy> = {},
    releases: readonly ClaimRelease[] = [],
  ): Promise<number> {
    return withRetry(async () => {
      const reply = await this.send({ type: "write", id: 0, batch, mode, releases });
      return reply.changed;
    }, retry);
  }

  /**
   * Claims calls on the thread's connection, in turn with its writes (see `claimCalls`):
   * the scheduler's thread does none of the work, nor waits on SQLite's lock.
   */
  async claim(holder: string, evalHashes: readonly string[], leaseMs: number): Promise<Claims> {
    const reply = await this.send({ type: "claim", id: 0, holder, evalHashes, leaseMs });
    return { held: new Set(reply.claimed), recorded: new Set(reply.recorded) };
  }

  private send(request: Exclude<WriteRequest, { type: "close" }>): Promise<WriteDone> {
    if (this.exited) return Promise.reject(this.exited);
    const id = this.nextId++;
    if (this.pending.size === 0) this.worker.ref();
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ ...request, id } satisfies WriteRequest);
    });
  }

  private settle(reply: WriteReply): void {
    if ("ready" in reply) {
      this.opened = true;
      return;
    }
    const pending = this.pending.get(reply.id);
    if (!pending) return;
    this.pending.delete(reply.id);
    if (this.pending.size === 0) this.worker.unref();
    if (reply.error) {
      const { name, message, code } = reply.error;
      pending.reject(Object.assign(new Error(message), { name, code }));
    } else {
      pending.resolve(reply);
    }
  }

  /** Closes the thread's connection (after the writes sent) and waits for the thread to end. */
  async close(): Promise<void> {
    if (!this.exited) {
      this.worker.ref();
      this.worker.postMessage({ type: "close" } satisfies WriteRequest);
    }
    await this.done;
  }
}
