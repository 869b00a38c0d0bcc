/**
 * Where a SQLite backend's writes go: through statements prepared on the scheduler's own
 * connection, or, once a run has written enough rows (or is about to: `expectManyRows`), on
 * a writer thread with a connection of its own (sqlite-write-thread.ts). Until the thread's
 * connection is open, writes stay on the scheduler's connection; a thread that dies is not
 * restarted, and its writes (and every later one) go through the scheduler's connection.
 */
import type { Database as SQLiteConnection } from "better-sqlite3";
import type { Kysely } from "kysely";
import type { ClaimRelease, Claims } from "./call-claims.ts";
import type { RetryPolicy } from "./retry.ts";
import type { Database } from "./schema.ts";
import { SqliteWriter } from "./sqlite-writes.ts";
import { SqliteWriteThread, WriteThreadExitedError } from "./sqlite-write-thread.ts";
import { batchRows, type RowBatch, type WriteMode } from "./writes.ts";

/** The write path of one SQLite database. */
export class SqliteWritePath {
  /** The prepared-statement write path on the scheduler's connection. */
  private readonly writer: SqliteWriter;
  /** The writer thread, once started. */
  private thread: SqliteWriteThread | undefined;
  /** Rows written until the writer thread starts (Infinity: never). */
  private rowsBeforeThread: number;

  /**
   * @param threadAfterRows - rows written before writes move to a thread (Infinity: never).
   */
  constructor(
    sqlite: SQLiteConnection,
    db: () => Kysely<Database>,
    private readonly file: string,
    threadAfterRows: number,
  ) {
    this.writer = new SqliteWriter(sqlite, db);
    this.rowsBeforeThread = threadAfterRows;
  }

  /** Whether the writer thread has been started. */
  get onThread(): boolean {
    return this.thread !== undefined;
  }

  /** Whether the writer thread has its connection open (writes and claims go there). */
  get threadReady(): boolean {
    return this.thread?.ready ?? false;
  }

  /** Writes a batch in one transaction, retried as a whole on transient errors. */
  write(
    batch: RowBatch,
    mode: WriteMode,
    retry: Partial<RetryPolicy>,
    releases: readonly ClaimRelease[],
  ): Promise<number> {
    const thread = this.threadFor(batch);
    if (!thread?.ready) return this.writer.write(batch, mode, retry, releases);
    return thread.write(batch, mode, retry, releases).catch((error: unknown) => {
      if (!(error instanceof WriteThreadExitedError)) throw error;
      // Rewriting a batch the thread may have committed is harmless.
      this.thread = undefined;
      return this.writer.write(batch, mode, retry, releases);
    });
  }

  /**
   * Claims on the writer thread, when its connection is open (else undefined): bound to that
   * thread, so that a retry goes there again (and fails as it does if the thread died).
   */
  threadClaimer():
    | ((holder: string, evalHashes: readonly string[], leaseMs: number) => Promise<Claims>)
    | undefined {
    const thread = this.thread;
    return thread?.ready ? (...args) => thread.claim(...args) : undefined;
  }

  /** Many rows are coming: the writer thread, if this path would start one, starts now. */
  expectManyRows(): void {
    if (!this.thread && this.rowsBeforeThread !== Infinity) this.startThread();
  }

  /** Stops the writer thread (after the writes sent to it). */
  async close(): Promise<void> {
    await this.thread?.close();
  }

  /** The writer thread, started once enough rows have been written. */
  private threadFor(batch: RowBatch): SqliteWriteThread | undefined {
    if (this.thread || this.rowsBeforeThread === Infinity) return this.thread;
    this.rowsBeforeThread -= batchRows(batch);
    if (this.rowsBeforeThread > 0) return undefined;
    return this.startThread();
  }

  private startThread(): SqliteWriteThread {
    this.rowsBeforeThread = Infinity;
    this.thread = new SqliteWriteThread(this.file);
    return this.thread;
  }
}
