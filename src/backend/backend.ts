/**
 * The provenance backend: cache lookups, and recording of tasks, values, calls, jobs and
 * executions. Writes are queued and flushed together in one transaction shortly after
 * they are made (20 ms; longer, up to a quarter of a second, while flushes are slow), so a
 * busy scheduler writes in batches and a killed one loses at most that last moment of
 * finished work. SQLite writes and cache lookups use statements prepared once per
 * connection (`./sqlite-writes.ts`; on a writer thread in large runs, see
 * `./sqlite-write-path.ts`); PostgreSQL writes are multi-row inserts. Large values go to
 * the value store when one is configured; reads and writes are retried through transient
 * database errors.
 *
 * While the database is unreachable, a flush that fails puts its rows back in the queue
 * and the next one tries again, with growing pauses, for as long as the retry policy
 * allows (`[backend] db_retries`, `db_retry_max_wait`); rows are never dropped. Past
 * {@link MAX_QUEUED_ROWS} waiting rows, new jobs wait for room ({@link Backend.waitForRoom}),
 * so memory stays bounded. When retrying runs out, the backend fails for good: every
 * later flush, and every job waiting for room, gets a {@link DatabaseUnavailableError}.
 */
import type { Database as SQLiteConnection } from "better-sqlite3";
import type { Kysely } from "kysely";
import {
  exclusiveInProcess,
  openDatabase,
  type ConnectionOptions,
  type DatabaseHandle,
} from "./database.ts";
import { Admission } from "./admission.ts";
import { ensureSchema } from "./migrate.ts";
import {
  DEFAULT_RETRY,
  DatabaseUnavailableError,
  causeText,
  formatDuration,
  writeFailure,
  isTransientError,
  retriesExhausted,
  retryDelay,
  withRetry,
  type RetryPolicy,
} from "./retry.ts";
import type { Database, JobTable } from "./schema.ts";
import { claimCalls, type ClaimRelease, type Claims } from "./call-claims.ts";
import { WriteQueue, type QueuedWrite } from "./write-queue.ts";
import { openValueStore, type ValueStore } from "./value-store.ts";
import { CacheReads, type CachedCall, type CachedEvaluation } from "./cache-reads.ts";
import { SqliteLookups } from "./sqlite-reads.ts";
import { SqliteWritePath } from "./sqlite-write-path.ts";
import { batchIsEmpty, batchRows, writeBatch, type RowBatch, type WriteMode } from "./writes.ts";
import { serializeValue } from "../values/serialize.ts";
import { hashValue } from "../values/hash.ts";
import { mayHoldPathValues, pathValues } from "../values/path-values.ts";
import {
  DEFAULT_VALUE_STORE_MIN_SIZE,
  VALUE_FORMAT,
  VALUE_REF_FORMAT,
  ValueTooLargeError,
  valueTypeName,
  type StoredValue,
} from "./value-rows.ts";

/** Options for opening a backend. */
export interface BackendOptions {
  /** A database URI; default `sqlite:///:memory:`. */
  dbUri?: string;
  /** For SQLite: the resolved database file. */
  sqlitePath?: string;
  /** Migrate the schema to the latest version if needed. Default true for SQLite only. */
  automigrate?: boolean;
  /** Largest value, in serialized bytes, that may be recorded. Default 1e9. */
  maxValueSize?: number;
  /** A local directory or `s3://` prefix for large values. */
  valueStorePath?: string;
  /** Values of at least this many bytes go to the value store (default 1,000,000). */
  valueStoreMinSize?: number;
  /** How to log in to a database server (credentials from environment variables or AWS). */
  connection?: ConnectionOptions;
  /** How transient database errors are retried. */
  retry?: Partial<RetryPolicy>;
  /** Rows that may wait to be written before new jobs wait (default {@link MAX_QUEUED_ROWS}). */
  maxQueuedRows?: number;
  /**
   * SQLite files: once this many rows have been written, later writes go through a writer
   * thread of their own (see `./sqlite-write-thread.ts`), so that a large run's index
   * maintenance overlaps with its scheduling. Default {@link WRITE_THREAD_AFTER_ROWS};
   * `Infinity` keeps every write on the scheduler's thread.
   */
  writeThreadAfterRows?: number;
}

export type { CachedCall, CachedEvaluation } from "./cache-reads.ts";

type Rows<T extends keyof Database> = Database[T][];

/** How long rows wait before they are flushed. */
const FLUSH_DELAY_MS = 20;
/**
 * While flushes are slow (a large database: every commit rewrites the index pages it
 * touched), rows wait this many times the last flush's duration instead, so that flushing
 * takes a bounded share of the time and batches grow with the cost of a commit...
 */
const FLUSH_COST_FACTOR = 3;
/** ...but never longer than this. */
const MAX_FLUSH_DELAY_MS = 250;

/**
 * Rows that may wait in memory to be written before new jobs wait for room (backpressure):
 * only reached while the database is unreachable or far slower than the jobs. Most rows are
 * well under a kilobyte, so this bounds the queue to some hundreds of MB at most.
 */
export const MAX_QUEUED_ROWS = 200_000;

/**
 * Rows written before SQLite writes move to their own thread: a small run never starts it
 * (a thread costs some tens of milliseconds and MB), a large one does early.
 */
export const WRITE_THREAD_AFTER_ROWS = 5_000;

/** Tries of one write before its rows go back to the queue (deadlocks, busy SQLite). */
const WRITE_ATTEMPTS = 3;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The provenance database as the scheduler uses it. */
export class Backend {
  private readonly pending = new WriteQueue();
  private flushTimer: NodeJS.Timeout | undefined;
  /** When `flushTimer` fires (`performance.now()` time). */
  private flushDueAt = 0;
  /** The chain of writes (they run one after another); it never rejects. */
  private flushing: Promise<void> = Promise.resolve();
  /** Rows taken out of the queue by the write in progress. */
  private inFlight = 0;
  /** When the current run of failed writes began (undefined: the last write went through). */
  private outageSince: number | undefined;
  /** Failed writes since `outageSince`. */
  private failures = 0;
  private lastError: unknown;
  /** Set when retrying has run out (or a write failed for good): the backend is failed. */
  private failed: { afterMs: number; transient: boolean } | undefined;
  private readonly admission: Admission;
  private readonly writtenValues = new Set<string>();
  private readonly writtenTasks = new Set<string>();
  readonly maxValueSize: number;
  readonly valueStoreMinSize: number;
  private readonly retry: RetryPolicy;
  /** SQLite: where writes go (undefined for other dialects). */
  private readonly sqliteWrites: SqliteWritePath | undefined;
  private readonly reads: CacheReads;
  /** How long the last flush took to write, in milliseconds. */
  private lastWriteMs = 0;

  private constructor(
    readonly handle: DatabaseHandle,
    /** Where large values live, if configured. */
    readonly valueStore: ValueStore | undefined,
    /** The database's schema version (3 and later have call claims). */
    readonly schemaVersion: number,
    options: BackendOptions,
  ) {
    this.maxValueSize = options.maxValueSize ?? 1_000_000_000;
    this.valueStoreMinSize = options.valueStoreMinSize ?? DEFAULT_VALUE_STORE_MIN_SIZE;
    this.retry = { ...DEFAULT_RETRY, ...options.retry };
    this.admission = new Admission(
      () => this.queuedRows(),
      options.maxQueuedRows ?? MAX_QUEUED_ROWS,
    );
    const sqlite = handle.sqlite as SQLiteConnection | undefined;
    this.sqliteWrites = sqlite
      ? new SqliteWritePath(
          sqlite,
          () => handle.db,
          handle.location,
          handle.location === ":memory:"
            ? Infinity
            : (options.writeThreadAfterRows ?? WRITE_THREAD_AFTER_ROWS),
        )
      : undefined;
    this.reads = new CacheReads(
      (fn) => this.read(fn),
      (fn) => this.retrying(fn),
      sqlite ? new SqliteLookups(sqlite) : undefined,
      valueStore,
    );
  }

  /** Opens the database, checking (and, if `automigrate`, migrating) its schema. */
  static async open(options: BackendOptions = {}): Promise<Backend> {
    const uri = options.dbUri ?? "sqlite:///:memory:";
    const handle = await openDatabase(uri, {
      sqlitePath: options.sqlitePath,
      connection: options.connection,
    });
    try {
      const version = await ensureSchema(
        handle,
        options.automigrate ?? handle.dialect === "sqlite",
      );
      const store = options.valueStorePath
        ? await openValueStore(options.valueStorePath)
        : undefined;
      return new Backend(handle, store, version, options);
    } catch (error) {
      await handle.close();
      throw error;
    }
  }

  /** Whether writes have moved to the writer thread (see `writeThreadAfterRows`). @internal */
  get writesOnThread(): boolean {
    return this.sqliteWrites?.onThread ?? false;
  }

  /** Whether the writer thread has its connection open (writes and claims go there). @internal */
  get writeThreadReady(): boolean {
    return this.sqliteWrites?.threadReady ?? false;
  }

  get db(): Kysely<Database> {
    return this.handle.db;
  }

  /**
   * Runs a read, retrying it through transient errors (a dropped connection, …).
   * @throws DatabaseUnavailableError when the database stays unreachable past the policy.
   */
  read<T>(fn: (db: Kysely<Database>) => Promise<T>, retry: Partial<RetryPolicy> = {}): Promise<T> {
    return this.retrying(() => fn(this.db), retry);
  }

  /**
   * {@link read} for what reads without Kysely (SQLite statements of its own): Kysely, and
   * its instance, are made only when a query needs them (see kysely-module.ts).
   */
  private async retrying<T>(fn: () => Promise<T>, retry: Partial<RetryPolicy> = {}): Promise<T> {
    const started = performance.now();
    try {
      return await withRetry(fn, { ...this.retry, ...retry });
    } catch (error) {
      if (!isTransientError(error)) throw error;
      throw new DatabaseUnavailableError(
        this.handle.location,
        0,
        `cannot read from the database ${this.handle.location} after ` +
          `${formatDuration(performance.now() - started)} of retrying (${causeText(error)})`,
        { cause: error },
      );
    }
  }

  /**
   * Runs a statement now, outside the write queue (after this process's write in progress,
   * never beside it: see `exclusiveInProcess`), retried through transient errors like a read
   * (`retry` overrides the backend's policy). For what must be visible to other schedulers at
   * once (call claims). @internal
   */
  writeNow<T>(
    fn: (handle: DatabaseHandle) => Promise<T>,
    retry: Partial<RetryPolicy> = {},
  ): Promise<T> {
    return exclusiveInProcess(this.handle, () => this.retrying(() => fn(this.handle), retry));
  }

  /**
   * Claims calls for `holder` (see `claimCalls` in call-claims.ts), at once: on the writer
   * thread when it runs (in turn with its writes, none of the work on this thread), else
   * on this connection after the write in progress. Retried like a read. @internal
   */
  claimCalls(
    holder: string,
    evalHashes: readonly string[],
    leaseMs: number,
    retry: Partial<RetryPolicy> = {},
  ): Promise<Claims> {
    const onThread = this.sqliteWrites?.threadClaimer();
    if (onThread) return this.read(() => onThread(holder, evalHashes, leaseMs), retry);
    return this.writeNow((handle) => claimCalls(handle, holder, evalHashes, leaseMs), retry);
  }

  /**
   * Releases a call claim in the transaction of the next write, with the rows queued until
   * then: a claim goes only together with the result it guards. @internal
   */
  releaseWithRows(holder: string, evalHash: string): void {
    this.pending.release(holder, evalHash);
    this.scheduleFlush();
  }

  // ---- reads -------------------------------------------------------------------------

  /** The recorded single reduction for an eval hash (lookups of one tick are batched). */
  getEvaluation(evalHash: string): Promise<CachedEvaluation | undefined> {
    return this.reads.getEvaluation(evalHash);
  }

  /** The newest finished call for an eval hash, with its final value. */
  getCallByEvalHash(evalHash: string): Promise<CachedCall | undefined> {
    return this.reads.getCallByEvalHash(evalHash);
  }

  /** A recorded value by hash. */
  getValue(valueHash: string): Promise<{ value: unknown; type: string } | undefined> {
    return this.reads.getValue(valueHash);
  }

  /**
   * The serialized bytes of a stored value: the row's own, or the value store's.
   * @throws ValueMissingError when the value store does not have them.
   */
  valueBytes(row: StoredValue): Promise<Buffer> {
    return this.reads.valueBytes(row);
  }

  // ---- writes (queued) ---------------------------------------------------------------

  /** Records a task's identity and source (once per process). */
  recordTask(task: {
    hash: string;
    name: string;
    namespace: string;
    fullname: string;
    source: string;
  }): void {
    if (this.writtenTasks.has(task.hash)) return;
    this.writtenTasks.add(task.hash);
    this.pending.rows.task.push({
      hash: task.hash,
      name: task.name,
      namespace: task.namespace,
      fullname: task.fullname,
      source: task.source,
    });
    this.scheduleFlush();
  }

  /**
   * Serializes and records a value under its hash (once per process). Values of at least
   * `valueStoreMinSize` bytes go to the value store when there is one.
   * @throws ValueTooLargeError when it is larger than `max_value_size`.
   */
  recordValue(valueHash: string, value: unknown, where?: string): void {
    if (this.writtenValues.has(valueHash)) return;
    const bytes = serializeValue(value, where);
    if (bytes.length > this.maxValueSize) {
      throw new ValueTooLargeError(
        `${where ?? "a value"} is ${bytes.length} bytes, larger than max_value_size ` +
          `(${this.maxValueSize} bytes, [backend] in redun.ini)`,
      );
    }
    this.writtenValues.add(valueHash);
    this.pending.rows.value.push(
      this.valueRow(valueHash, valueTypeName(value), bytes, this.pending.storeWrites),
    );
    if (typeof value === "object" && value !== null && mayHoldPathValues(bytes))
      this.recordPaths(valueHash, value);
    this.scheduleFlush();
  }

  /** `file` rows for the files and directories in a value; nested ones are `subvalue`s. */
  private recordPaths(valueHash: string, value: object): void {
    for (const found of pathValues(value)) {
      if (found.value === value) {
        this.pending.rows.file.push({ value_hash: valueHash, path: found.path });
        continue;
      }
      const hash = hashValue(found.value);
      this.recordValue(hash, found.value);
      this.pending.rows.subvalue.push({ value_hash: hash, parent_value_hash: valueHash });
    }
  }

  /**
   * The `value` row for serialized bytes; bytes bound for the value store are added to
   * `storeWrites`, to be written before the row is.
   */
  private valueRow(
    valueHash: string,
    type: string,
    bytes: Buffer,
    storeWrites: Map<string, Buffer>,
  ): Database["value"] {
    if (this.valueStore && bytes.length >= this.valueStoreMinSize) {
      storeWrites.set(valueHash, bytes);
      return { value_hash: valueHash, type, format: VALUE_REF_FORMAT, value: Buffer.alloc(0) };
    }
    return { value_hash: valueHash, type, format: VALUE_FORMAT, value: bytes };
  }

  /** Records rows for one finished call, in one batch. */
  recordCall(rows: {
    evaluation?: Database["evaluation"];
    callNode: Database["call_node"];
    edges: Rows<"call_edge">;
    subtreeTasks: Rows<"call_subtree_task">;
    arguments: Rows<"argument">;
    argumentResults: Rows<"argument_result">;
  }): void {
    if (rows.evaluation) this.pending.rows.evaluation.push(rows.evaluation);
    this.pending.rows.call_node.push(rows.callNode);
    // A loop, not push(...rows): a call with 100k children would overflow the stack.
    append(this.pending.rows.call_edge, rows.edges);
    append(this.pending.rows.call_subtree_task, rows.subtreeTasks);
    append(this.pending.rows.argument, rows.arguments);
    append(this.pending.rows.argument_result, rows.argumentResults);
    this.scheduleFlush();
  }

  /** Records the single reduction of an eval hash (cacheable as soon as it is known). */
  recordEvaluation(row: Database["evaluation"]): void {
    this.pending.rows.evaluation.push(row);
    this.scheduleFlush();
  }

  /** Inserts or updates a job row (kept as it is until written: pass a new row each time). */
  recordJob(row: JobTable): void {
    this.pending.job(row);
    this.scheduleFlush();
  }

  /** Records a tag (content addressed: the same tag twice is one row). */
  recordTag(row: Database["tag"]): void {
    this.pending.rows.tag.push(row);
    this.scheduleFlush();
  }

  /** Inserts or updates an execution row. */
  recordExecution(row: Database["execution"]): void {
    this.pending.rows.execution.push(row);
    this.scheduleFlush();
  }

  private scheduleFlush(minDelay = 0): void {
    if (this.failed) return;
    const delay =
      this.outageSince !== undefined
        ? retryDelay(this.retry, this.failures)
        : // On the writer thread a slow write holds up nothing here: the next one follows it
          // at once, with whatever rows came meanwhile.
          this.sqliteWrites?.onThread
          ? Math.max(FLUSH_DELAY_MS, minDelay)
          : Math.min(
              MAX_FLUSH_DELAY_MS,
              Math.max(FLUSH_DELAY_MS, minDelay, FLUSH_COST_FACTOR * this.lastWriteMs),
            );
    // A timer already set stays, unless it is a later one: rows held back (a running job's)
    // must not hold up the rows queued since.
    const dueAt = performance.now() + delay;
    if (this.flushTimer) {
      if (this.flushDueAt <= dueAt) return;
      clearTimeout(this.flushTimer);
    }
    this.flushDueAt = dueAt;
    this.flushTimer = setTimeout(() => {
      this.flushTimer = undefined;
      // Never rejects: a failed write keeps its rows and is retried, or fails the backend.
      void this.writeQueued(true);
    }, delay);
    // While rows are being retried, the timer keeps the process alive: it is what writes them.
    if (this.outageSince === undefined) this.flushTimer.unref?.();
  }

  /** Rows waiting to be written (queued, or in the write in progress). */
  queuedRows(): number {
    return this.inFlight + this.pending.size;
  }

  /**
   * Admits a job that is about to run: at once, unless more than `maxQueuedRows` rows wait
   * to be written, counting what the jobs already admitted will record (the database is
   * down or slow); then when they have drained below it.
   * @returns a function to call when the job has finished (and recorded its rows), or a
   *   promise of it when the job waits.
   * @throws DatabaseUnavailableError (as a rejected promise) once the backend has given up
   *   writing.
   */
  waitForRoom(): (() => void) | Promise<() => void> {
    if (this.failed) return Promise.reject(this.unavailable());
    return this.admission.enter();
  }

  /**
   * Writes everything queued so far; resolves when it is committed. Through transient
   * errors it keeps trying, as the retry policy allows.
   * @throws DatabaseUnavailableError when retrying ran out (now or earlier): the rows are not
   *   written.
   */
  async flush(): Promise<void> {
    for (;;) {
      if (this.failed) throw this.unavailable();
      await this.writeQueued(false);
      if (this.failed) throw this.unavailable();
      // Writes run in order and each takes every row queued when it starts (rows of a
      // failed write included), so a write that went through covers every earlier row.
      if (this.outageSince === undefined) return;
      await sleep(retryDelay(this.retry, this.failures));
    }
  }

  /**
   * Queues a write of the rows queued when it starts; resolves when it has been tried.
   * @param holdRunningJobs - leave the rows of jobs still running that were queued less than
   *   `RUNNING_JOB_ROW_DELAY_MS` (write-queue.ts) ago for a later write.
   */
  private writeQueued(holdRunningJobs: boolean): Promise<void> {
    if (this.flushTimer) {
      clearTimeout(this.flushTimer);
      this.flushTimer = undefined;
    }
    // Flushes run one after another so that rows are committed in the order they were made.
    this.flushing = this.flushing.then(() => this.writeQueuedNow(holdRunningJobs));
    return this.flushing;
  }

  private async writeQueuedNow(holdRunningJobs: boolean): Promise<void> {
    if (this.failed) return;
    const { write, dueInMs } = this.pending.take(holdRunningJobs);
    if (dueInMs !== undefined) this.scheduleFlush(dueInMs);
    if (!write) return;
    this.inFlight = batchRows(write.batch);
    try {
      await this.write(write);
      this.inFlight = 0;
      this.outageSince = undefined;
      this.failures = 0;
      this.admission.wake();
    } catch (error) {
      this.inFlight = 0;
      this.pending.requeue(write);
      this.lastError = error;
      this.outageSince ??= performance.now();
      this.failures++;
      const transient = isTransientError(error);
      if (!transient || retriesExhausted(this.retry, this.failures, this.outageSince)) {
        this.failed = { afterMs: performance.now() - this.outageSince, transient };
        this.admission.rejectAll(() => this.unavailable());
      } else {
        this.scheduleFlush();
      }
    }
  }

  /** The error of a failed backend, counting the rows still unwritten. */
  private unavailable(): DatabaseUnavailableError {
    const { afterMs, transient } = this.failed!;
    const location = this.handle.location;
    return writeFailure(
      location,
      this.queuedRows(),
      transient ? afterMs : undefined,
      this.lastError,
    );
  }

  /** Writes rows: value-store files first, so that no row ever points at a missing file. */
  private async write({ batch, storeWrites, releases }: QueuedWrite): Promise<void> {
    await this.putStored(storeWrites);
    if (!batchIsEmpty(batch) || releases.length > 0) {
      const started = performance.now();
      await exclusiveInProcess(this.handle, () => this.writeRows(batch, "record", releases));
      this.lastWriteMs = performance.now() - started;
    }
  }

  /**
   * Writes rows in one transaction, through prepared statements on SQLite. A queued write
   * (`record`) is tried a few times here; past that, its rows go back to the queue.
   */
  private writeRows(
    batch: RowBatch,
    mode: WriteMode,
    releases: readonly ClaimRelease[] = [],
  ): Promise<number> {
    const retry =
      mode === "record"
        ? { ...this.retry, attempts: Math.min(this.retry.attempts, WRITE_ATTEMPTS) }
        : this.retry;
    if (!this.sqliteWrites) return writeBatch(this.db, batch, mode, retry, releases);
    return this.sqliteWrites.write(batch, mode, retry, releases);
  }

  /**
   * Many rows are coming (a fan-out of hundreds of calls has begun): the writer thread, if
   * this backend would start one, starts now, so that it is ready when the rows are.
   * @internal
   */
  expectManyRows(): void {
    this.sqliteWrites?.expectManyRows();
  }

  private async putStored(storeWrites: Map<string, Buffer>): Promise<void> {
    if (storeWrites.size === 0) return;
    await Promise.all([...storeWrites].map(([hash, bytes]) => this.valueStore!.put(hash, bytes)));
  }

  /**
   * Writes rows that come from another repository (import, pull): rows already here win.
   * Value rows must carry their bytes inline; they are moved to this backend's value store
   * when large enough.
   * @returns how many rows were new or updated.
   */
  async writeImported(batch: RowBatch): Promise<number> {
    const storeWrites = new Map<string, Buffer>();
    const rows = {
      ...batch,
      value: batch.value.map((row) =>
        row.format === VALUE_FORMAT
          ? this.valueRow(row.value_hash, row.type, Buffer.from(row.value), storeWrites)
          : row,
      ),
    };
    await this.putStored(storeWrites);
    return exclusiveInProcess(this.handle, () => this.writeRows(rows, "import"));
  }

  /** Flushes and closes the database. */
  async close(): Promise<void> {
    try {
      await this.flush();
    } finally {
      await this.sqliteWrites?.close();
      await this.handle.close();
    }
  }
}

function append<T>(to: T[], rows: readonly T[]): void {
  for (const row of rows) to.push(row);
}
