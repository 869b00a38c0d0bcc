/**
 * Provenance of one execution's jobs: the rows a job, a finished call and a failed call
 * leave in the backend. The execution decides what happened; this module only writes it.
 */
import type { Task } from "../api/task.ts";
import type { Backend } from "../backend/backend.ts";
import { tagRows } from "../backend/tags.ts";
import type { EntityType } from "../backend/schema.ts";
import { UnsupportedValueError } from "../values/errors.ts";
import { hashParts, hashValue } from "../values/hash.ts";
import type { Job, CallResult } from "./job.ts";
import type { JobContext } from "../api/job-context.ts";

/** A call as the execution saw it: its task, arguments, and where each argument came from. */
export interface CallRecord {
  task: Task;
  args: unknown[];
  argHashes: string[];
  /** For each argument, the call hashes of the calls its value came from. */
  upstream: string[][];
  /** `hashParts(argHashes)`. */
  argsHash: string;
  /** The same, less the arguments a task's `configArgs` leave out of its eval hash. */
  evalArgsHash: string;
}

/** Writes the provenance rows of jobs and calls. */
export class Recorder {
  private readonly contextHashes = new WeakMap<JobContext, string>();

  constructor(private readonly backend: Backend) {}

  /** The job row, as it is now. */
  job(job: Job, callHash: string | null, endTime: string | null = null): void {
    this.backend.recordJob({
      id: job.id,
      start_time: job.startTime,
      end_time: endTime,
      task_hash: job.task.hash,
      cached: job.state === "CACHED" ? 1 : 0,
      call_hash: callHash,
      parent_id: job.parent?.id ?? null,
      execution_id: job.executionId,
      status: job.state === "PENDING" ? "RUNNING" : job.state,
    });
  }

  /** A job's context, as the `redun.context` tag holding its hash (the value is stored too). */
  context(job: Job, context: JobContext): void {
    // Jobs share their parent's context object: hash and store each one once.
    let hash = this.contextHashes.get(context);
    if (hash === undefined) {
      const where = `the context of task "${job.task.fullname}"`;
      hash = hashValue(context, where);
      this.backend.recordValue(hash, context, where);
      this.contextHashes.set(context, hash);
    }
    this.tags("job", job.id, [["redun.context", hash]]);
  }

  /** Tags on a record (a job's `tags` option, an execution's tags). */
  tags(entityType: EntityType, id: string, tags: readonly (readonly [string, unknown])[]): void {
    for (const row of tagRows(entityType, id, tags)) this.backend.recordTag(row);
  }

  /**
   * A call and its rows: the result (or error) value, arguments and where they came from,
   * edges to its child calls, and the tasks of its subtree.
   *
   * @param callHash - from {@link callHashOf}.
   */
  call(
    job: Job,
    call: CallRecord,
    outcome: { value: unknown; valueHash: string; failed?: boolean },
    callHash: string,
    children: readonly CallResult[],
    subtreeTasks: ReadonlySet<string>,
  ): void {
    const { backend } = this;
    const { task } = call;
    const { argsHash } = call;
    backend.recordValue(
      outcome.valueHash,
      outcome.value,
      `the ${outcome.failed ? "error" : "result"} of task "${task.fullname}"`,
    );
    const args = call.args.map((arg, i) => {
      this.argumentValue(call, i, arg);
      return {
        arg_hash: hashParts(["arg", callHash, String(i), call.argHashes[i]!]),
        call_hash: callHash,
        value_hash: call.argHashes[i]!,
        arg_position: i,
        arg_key: task.paramNames[i] ?? null,
      };
    });
    backend.recordCall({
      callNode: {
        call_hash: callHash,
        task_name: task.fullname,
        task_hash: task.hash,
        args_hash: argsHash,
        eval_hash: job.evalHash,
        value_hash: outcome.valueHash,
        timestamp: new Date().toISOString(),
      },
      edges: children.map((child, i) => ({
        parent_id: callHash,
        child_id: child.callHash,
        call_order: i,
      })),
      subtreeTasks: [...subtreeTasks].map((h) => ({ call_hash: callHash, task_hash: h })),
      arguments: args,
      argumentResults: args.flatMap((arg, i) => {
        const upstream = call.upstream[i]!;
        return upstream.length === 0
          ? []
          : [...new Set(upstream)].map((result) => ({
              arg_hash: arg.arg_hash,
              result_call_hash: result,
            }));
      }),
    });
  }

  private argumentValue(call: CallRecord, i: number, arg: unknown): void {
    const where = `argument "${call.task.paramNames[i] ?? i}" of task "${call.task.fullname}"`;
    try {
      this.backend.recordValue(call.argHashes[i]!, arg, where);
    } catch (error) {
      // An argument holding an apply() of a plain function (the quoted expression of a root
      // task) has a hash but no stored form; its argument row still names it.
      if (!(error instanceof UnsupportedValueError)) throw error;
    }
  }
}

/**
 * The hash of a call: its task, arguments, result (or error) and child calls. A failed
 * call's hash is marked as such, so it never equals a successful one.
 */
export function callHashOf(
  failed: boolean,
  taskHash: string,
  argsHash: string,
  valueHash: string,
  children: readonly CallResult[],
): string {
  return hashParts([
    failed ? "failed-call" : "call",
    taskHash,
    argsHash,
    valueHash,
    ...children.map((c) => c.callHash),
  ]);
}
