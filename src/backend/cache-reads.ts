/**
 * Cache lookups and value reads of a provenance database: the single reduction of an eval
 * hash (the lookups of one tick batched, on SQLite through prepared statements), the newest
 * finished call of one, and stored values (their bytes in the row or in the value store). A
 * value whose bytes are gone from the value store is a cache miss, not an error.
 */
import type { Kysely } from "kysely";
import { BatchLoader } from "./batch-loader.ts";
import type { Database } from "./schema.ts";
import type { ValueStore } from "./value-store.ts";
import {
  VALUE_FORMAT,
  VALUE_REF_FORMAT,
  ValueMissingError,
  type StoredValue,
} from "./value-rows.ts";
import { deserializeValue } from "../values/serialize.ts";

/** A cached single reduction. */
export interface CachedEvaluation {
  valueHash: string;
  value: unknown;
  /**
   * Calls already recorded from this reduction (some of them, see
   * `CALLS_PER_EVALUATION`): a cached job whose call is among them records no call rows
   * again, as Python redun skips an existing call node.
   */
  callHashes?: readonly string[];
}

/** A cached final result, with the task hashes of everything beneath it. */
export interface CachedCall extends CachedEvaluation {
  callHash: string;
  subtreeTaskHashes: string[];
}

/** An `evaluation` row joined with its value, as the cache reads it. */
export interface EvaluationRow {
  eval_hash: string;
  value_hash: string;
  value: Uint8Array;
  format: string;
  /** The calls recorded with this single reduction (the hashes of their call nodes). */
  call_hashes: string[];
}

/**
 * Call hashes read with an evaluation, at most: enough for the usual one (or few) calls of
 * a single reduction; a call beyond them is recorded again, which is harmless.
 */
export const CALLS_PER_EVALUATION = 8;

/**
 * Point lookups of evaluations by a faster path than one query per batch (SQLite's prepared
 * statements, `./sqlite-reads.ts`). Typed here, without the driver's types, so that the
 * package's declarations do not need them.
 */
export interface EvaluationLookups {
  evaluations(evalHashes: readonly string[]): EvaluationRow[];
}

const MISSING = Symbol("missing");

/** Runs a read with the backend's retry policy. */
type Read = <T>(fn: (db: Kysely<Database>) => Promise<T>) => Promise<T>;
/** Runs a read that needs no Kysely instance with the backend's retry policy. */
type ReadDirect = <T>(fn: () => Promise<T>) => Promise<T>;

/** The reads the scheduler's cache makes. */
export class CacheReads {
  constructor(
    private readonly read: Read,
    private readonly readDirect: ReadDirect,
    private readonly lookups: EvaluationLookups | undefined,
    private readonly valueStore: ValueStore | undefined,
  ) {}

  private readonly evaluations = new BatchLoader<CachedEvaluation>(async (evalHashes) => {
    const lookups = this.lookups;
    const rows = lookups
      ? await this.readDirect(async () => lookups.evaluations(evalHashes))
      : await this.read((db) => evaluationsWithCalls(db, evalHashes));
    const found = new Map<string, CachedEvaluation>();
    await Promise.all(
      rows.map(async (row) => {
        const value = await this.decodeForCache(row);
        if (value !== MISSING)
          found.set(row.eval_hash, {
            valueHash: row.value_hash,
            value: value.value,
            callHashes: row.call_hashes,
          });
      }),
    );
    return found;
  });

  /** The recorded single reduction for an eval hash (lookups of one tick are batched). */
  getEvaluation(evalHash: string): Promise<CachedEvaluation | undefined> {
    return this.evaluations.load(evalHash);
  }

  /** The newest finished call for an eval hash, with its final value. */
  async getCallByEvalHash(evalHash: string): Promise<CachedCall | undefined> {
    const row = await this.read((db) =>
      db
        .selectFrom("call_node")
        .innerJoin("value", "value.value_hash", "call_node.value_hash")
        .innerJoin("job", "job.call_hash", "call_node.call_hash")
        .select(["call_node.call_hash", "call_node.value_hash", "value.value", "value.format"])
        .where("call_node.eval_hash", "=", evalHash)
        .where("job.status", "in", ["DONE", "CACHED"])
        .orderBy("call_node.timestamp", "desc")
        .limit(1)
        .executeTakeFirst(),
    );
    if (!row) return undefined;
    const value = await this.decodeForCache(row);
    if (value === MISSING) return undefined;
    const subtree = await this.read((db) =>
      db
        .selectFrom("call_subtree_task")
        .select("task_hash")
        .where("call_hash", "=", row.call_hash)
        .execute(),
    );
    return {
      callHash: row.call_hash,
      valueHash: row.value_hash,
      value: value.value,
      subtreeTaskHashes: subtree.map((r) => r.task_hash),
    };
  }

  /** A recorded value by hash. */
  async getValue(valueHash: string): Promise<{ value: unknown; type: string } | undefined> {
    const row = await this.read((db) =>
      db
        .selectFrom("value")
        .select(["value_hash", "value", "format", "type"])
        .where("value_hash", "=", valueHash)
        .executeTakeFirst(),
    );
    return row
      ? { value: deserializeValue(await this.valueBytes(row)), type: row.type }
      : undefined;
  }

  /**
   * The serialized bytes of a stored value: the row's own, or the value store's.
   * @throws ValueMissingError when the value store does not have them.
   */
  async valueBytes(row: StoredValue): Promise<Buffer> {
    if (row.format === VALUE_FORMAT) return Buffer.from(row.value);
    if (row.format !== VALUE_REF_FORMAT)
      throw new Error(`Unknown value format "${row.format}" in the database`);
    if (!this.valueStore) {
      throw new ValueMissingError(
        `value ${row.value_hash} is in a value store, but [backend] value_store_path is not set`,
      );
    }
    const bytes = await this.valueStore.get(row.value_hash);
    if (!bytes) {
      throw new ValueMissingError(
        `value ${row.value_hash} is missing from the value store ${this.valueStore.location}`,
      );
    }
    return bytes;
  }

  /** A cached value, or MISSING when its bytes are gone from the value store (a cache miss). */
  private async decodeForCache(row: StoredValue): Promise<{ value: unknown } | typeof MISSING> {
    try {
      return { value: deserializeValue(await this.valueBytes(row)) };
    } catch (error) {
      if (error instanceof ValueMissingError) return MISSING;
      throw error;
    }
  }
}

/** Evaluations with their values and (some of) their calls, through Kysely (PostgreSQL). */
async function evaluationsWithCalls(
  db: Kysely<Database>,
  evalHashes: readonly string[],
): Promise<EvaluationRow[]> {
  const [rows, calls] = await Promise.all([
    db
      .selectFrom("evaluation")
      .innerJoin("value", "value.value_hash", "evaluation.value_hash")
      .select(["evaluation.eval_hash", "evaluation.value_hash", "value.value", "value.format"])
      .where("evaluation.eval_hash", "in", evalHashes)
      .execute(),
    db
      .selectFrom("call_node")
      .select(["eval_hash", "call_hash"])
      .where("eval_hash", "in", evalHashes)
      .execute(),
  ]);
  const byEval = new Map<string, string[]>();
  for (const { eval_hash, call_hash } of calls) {
    const list = byEval.get(eval_hash) ?? [];
    if (list.length < CALLS_PER_EVALUATION) list.push(call_hash);
    byEval.set(eval_hash, list);
  }
  return rows.map((row) => ({ ...row, call_hashes: byEval.get(row.eval_hash) ?? [] }));
}
