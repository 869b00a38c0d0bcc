/**
 * One execution: the graph reduction of an expression, with caching, common
 * sub-expression elimination, limits, retries and provenance recording.
 */
import type { CallTaskOptions, CacheScope, TaskOptions } from "../api/options.ts";
import { allTasks, type Task } from "../api/task.ts";
import type { Backend } from "../backend/backend.ts";
import {
  Expression,
  SchedulerExpression,
  SimpleExpression,
  TaskExpression,
  ValueExpression,
} from "../expressions/expression.ts";
import { Delayed } from "../expressions/helpers.ts";
import type { Executor } from "../executors/executor.ts";
import { hashParts, hashValue } from "../values/hash.ts";
import { errorIsA } from "../values/serialize.ts";
import { UnsupportedValueError } from "../values/errors.ts";
import { Job, type CallResult } from "./job.ts";
import type { LimitPool } from "./limits.ts";
import type { JobState, JobStatusTable } from "./status.ts";
import { isValueValid, prepareValue } from "./validity.ts";

/** How an execution was asked to run. */
export interface ExecutionOptions {
  id: string;
  /** `false` is `--no-cache`: no result is replayed from earlier executions. */
  cache: boolean;
  /** Look up the cache but run nothing; report what would run. */
  dryrun: boolean;
  /** Options for the root call (`redun run -o key=value`). */
  rootOptions: CallTaskOptions;
}

/** What the execution needs from its scheduler. */
export interface ExecutionServices {
  backend: Backend;
  limits: LimitPool;
  status: JobStatusTable;
  getExecutor(name: string): Executor;
  log(line: string): void;
}

/** Evaluation context: the job whose result is being reduced, and options exported to it. */
interface Context {
  job: Job | undefined;
  exportOptions: CallTaskOptions;
  /** Collects the call hashes of task calls whose results flow into the current argument. */
  upstream?: string[];
}

/** A job that would run in a dry run. */
export class DryRunMiss extends Error {
  override name = "DryRunMiss";
  constructor(readonly description: string) {
    super(`would run ${description}`);
  }
}

/** A job that was not started because the execution had already failed. */
export class CancelledError extends Error {
  override name = "CancelledError";
}

/** A job's failure, with the task and job it happened in (the cause is the task's error). */
export interface FailureInfo {
  task: string;
  jobId: string;
}

const FAILURE = Symbol.for("redun.failure");

/** The task and job where an error first happened, if the scheduler saw it. */
export function failureInfo(error: unknown): FailureInfo | undefined {
  return (error as any)?.[FAILURE];
}

export class Execution {
  /** Calls of this execution by eval hash: shared, so no call runs twice (CSE). */
  private readonly calls = new Map<string, Promise<CallResult>>();
  /**
   * Simple and scheduler expressions by job and hash: shared within a job, but evaluated
   * once per job, so every job that reaches a call through one records it as its child
   * (the calls themselves are still shared through `calls`).
   */
  private readonly expressions = new Map<string, Promise<unknown>>();
  /** Every call in progress, so a failed execution can wait for them before it ends. */
  private readonly inflight = new Set<Promise<unknown>>();
  private aborted = false;
  private rootJob: Job | undefined;
  private knownTaskHashes: Set<string> | undefined;
  private knownTaskCount = 0;
  readonly dryrunMisses: string[] = [];

  constructor(
    private readonly options: ExecutionOptions,
    private readonly services: ExecutionServices,
  ) {}

  /** Evaluates an expression (or a value with expressions inside) to a concrete value. */
  async run(expr: unknown): Promise<unknown> {
    try {
      return await this.evaluate(expr, { job: undefined, exportOptions: {} });
    } catch (error) {
      this.aborted = true;
      await this.drain();
      throw error;
    }
  }

  /** The job of the root call, once it exists. */
  get rootJobId(): string | undefined {
    return this.rootJob?.id;
  }

  private async drain(): Promise<void> {
    while (this.inflight.size > 0) await Promise.allSettled([...this.inflight]);
  }

  private get recording(): boolean {
    return !this.options.dryrun;
  }

  // ---- reduction -----------------------------------------------------------------------

  private evaluate(value: unknown, ctx: Context): Promise<unknown> | unknown {
    if (value instanceof Expression) return this.evaluateExpression(value, ctx);
    if (!containsExpression(value)) return value;
    if (Array.isArray(value)) return Promise.all(value.map((v) => this.evaluate(v, ctx)));
    if (value instanceof Map) {
      const entries = [...value];
      return Promise.all(
        entries.map(
          async ([k, v]) => [await this.evaluate(k, ctx), await this.evaluate(v, ctx)] as const,
        ),
      ).then((pairs) => new Map(pairs));
    }
    const keys = Object.keys(value as object);
    return Promise.all(
      keys.map((k) => this.evaluate((value as Record<string, unknown>)[k], ctx)),
    ).then((values) => {
      const out: Record<string, unknown> = {};
      keys.forEach((k, i) => (out[k] = values[i]));
      return out;
    });
  }

  private evaluateExpression(expr: Expression, ctx: Context): Promise<unknown> | unknown {
    if (expr instanceof TaskExpression) return this.evaluateCall(expr, ctx);
    if (expr instanceof ValueExpression) return this.evaluate(expr.value, ctx);
    const key = `${ctx.job?.id ?? ""}/${expr.hash}`;
    let promise = this.expressions.get(key);
    if (!promise) {
      promise =
        expr instanceof SimpleExpression
          ? this.evaluateSimple(expr, ctx)
          : this.evaluateScheduler(expr as SchedulerExpression, ctx);
      this.expressions.set(key, promise);
    }
    return promise;
  }

  private async evaluateSimple(expr: SimpleExpression, ctx: Context): Promise<unknown> {
    if (expr.op === "getitem") {
      const [target, key] = (await this.evaluate(expr.args, ctx)) as [any, string | number];
      if (target instanceof Map) return target.get(key);
      if (target === null || target === undefined) {
        throw new TypeError(
          `Cannot read ${JSON.stringify(key)} of ${target} (in ${expr.describe()})`,
        );
      }
      return target[key];
    }
    const [fn, ...rest] = expr.args as [Function, ...unknown[]];
    const args = (await this.evaluate(rest, ctx)) as unknown[];
    return this.evaluate(await fn(...args), ctx);
  }

  private async evaluateScheduler(expr: SchedulerExpression, ctx: Context): Promise<unknown> {
    const a = expr.args;
    switch (expr.op) {
      case "cond":
        return this.evaluate((await this.evaluate(a[0], ctx)) ? a[1] : a[2], ctx);
      case "seq": {
        const results: unknown[] = [];
        for (const item of a[0] as unknown[]) results.push(await this.evaluate(item, ctx));
        return results;
      }
      case "catch":
        try {
          return await this.evaluate(a[0], ctx);
        } catch (error) {
          if (error instanceof DryRunMiss || error instanceof CancelledError) throw error;
          for (const [className, handler] of a[1] as [string, Task][]) {
            if (errorIsA(error, className)) return this.evaluate(handler(error), ctx);
          }
          throw error;
        }
      case "throw":
        throw await this.evaluate(a[0], ctx);
      case "map": {
        const fn = a[0] as Task;
        const items = (await this.evaluate(a[1], ctx)) as unknown[];
        return this.evaluate(
          items.map((item) => fn(item)),
          ctx,
        );
      }
      case "flatten":
        return ((await this.evaluate(a[0], ctx)) as unknown[][]).flat(1);
      case "zip": {
        const lists = (await this.evaluate(a, ctx)) as unknown[][];
        const length = Math.min(...lists.map((l) => l.length));
        return Array.from({ length }, (_, i) => lists.map((l) => l[i]));
      }
      case "const":
        await this.evaluate(a[0], ctx);
        return this.evaluate(a[1], ctx);
      case "delay":
        return new Delayed(a[0] instanceof Expression ? a[0] : new ValueExpression(a[0]));
      case "force": {
        const delayed = await this.evaluate(a[0], ctx);
        return delayed instanceof Delayed ? this.evaluate(delayed.expr, ctx) : delayed;
      }
      default:
        throw new Error(`Unknown scheduler expression "${expr.op}"`);
    }
  }

  // ---- task calls ----------------------------------------------------------------------

  private evaluateCall(expr: TaskExpression, ctx: Context): Promise<unknown> {
    const result = this.call(expr, ctx);
    // A failed child that matters fails the evaluation anyway; one recovered by catch_ must
    // not fail its parent, so children are collected without their errors.
    ctx.job?.children.push(result.catch(() => undefined));
    return result.then((r) => {
      ctx.upstream?.push(r.callHash);
      return r.value;
    });
  }

  private async call(expr: TaskExpression, ctx: Context): Promise<CallResult> {
    const task = expr.task;
    const upstream = expr.args.map(() => [] as string[]);
    // Registered values are prepared before hashing (a remote File fetches its ETag).
    const args = (await prepareValue(
      await Promise.all(
        expr.args.map((arg, i) => this.evaluate(arg, { ...ctx, upstream: upstream[i] })),
      ),
    )) as unknown[];

    const options: TaskOptions = {
      ...task.taskOptions,
      ...ctx.exportOptions,
      ...expr.callOptions.exportOptions,
      ...expr.callOptions.options,
      ...(ctx.job === undefined ? this.options.rootOptions : {}),
    };
    const childExport = { ...ctx.exportOptions, ...expr.callOptions.exportOptions };
    const argHashes = args.map((arg, i) =>
      hashValue(arg, `argument "${task.paramNames[i] ?? i}" of task "${task.fullname}"`),
    );
    const configArgs = new Set(options.configArgs ?? []);
    const evalArgsHash = hashParts(
      argHashes.filter((_, i) => !configArgs.has(task.paramNames[i] ?? "")),
    );
    const evalHash = hashParts(["eval", task.hash, evalArgsHash]);
    const scope = this.cacheScope(options);

    if (scope !== "none") {
      const shared = this.calls.get(evalHash);
      if (shared) return shared;
    }
    const job = new Job(task, evalHash, ctx.job, this.options.id);
    const promise = this.runJob(job, {
      task,
      args,
      argHashes,
      evalArgsHash,
      upstream,
      options,
      childExport,
      scope,
    });
    if (scope !== "none") this.calls.set(evalHash, promise);
    this.inflight.add(promise);
    void promise.then(
      () => this.inflight.delete(promise),
      () => this.inflight.delete(promise),
    );
    return promise;
  }

  private cacheScope(options: TaskOptions): CacheScope {
    let scope: CacheScope = options.cacheScope ?? (options.cache === false ? "cse" : "backend");
    if (options.cache === false && scope === "backend") scope = "cse";
    if (!this.options.cache && scope === "backend") scope = "cse";
    return scope;
  }

  private async runJob(
    job: Job,
    call: {
      task: Task;
      args: unknown[];
      argHashes: string[];
      evalArgsHash: string;
      upstream: string[][];
      options: TaskOptions;
      childExport: CallTaskOptions;
      scope: CacheScope;
    },
  ): Promise<CallResult> {
    const { task, args, options, scope } = call;
    const { backend, status } = this.services;
    if (!job.parent) this.rootJob ??= job;
    status.move(task.fullname, undefined, "PENDING");
    if (this.recording) {
      backend.recordTask(task);
      this.recordJob(job, null);
    }
    try {
      const cached = scope === "backend" ? await this.lookupCache(job, options) : undefined;
      if (cached?.callHash !== undefined) {
        // Ultimate reduction: the final value, trusted as is.
        this.finishJob(job, "CACHED", cached.callHash);
        return cached;
      }
      let result: unknown;
      if (cached) {
        result = cached.value;
      } else {
        if (this.options.dryrun) {
          this.dryrunMisses.push(describeCall(task, args));
          throw new DryRunMiss(describeCall(task, args));
        }
        result = await prepareValue(await this.execute(job, task, args, options));
        const resultHash = hashValue(result, `result of task "${task.fullname}"`);
        if (this.recording && this.recordable(result, resultHash, task)) {
          backend.recordEvaluation({
            eval_hash: job.evalHash,
            task_hash: task.hash,
            args_hash: call.evalArgsHash,
            value_hash: resultHash,
          });
        }
      }
      const value = await this.evaluate(result, { job, exportOptions: call.childExport });
      const children = (await Promise.all(job.children)).filter(
        (c): c is CallResult => c !== undefined,
      );
      const valueHash = hashValue(value, `result of task "${task.fullname}"`);
      const argsHash = hashParts(call.argHashes);
      const callHash = hashParts([
        "call",
        task.hash,
        argsHash,
        valueHash,
        ...children.map((c) => c.callHash),
      ]);
      const subtreeTasks = new Set([task.hash]);
      for (const child of children) for (const h of child.subtreeTasks) subtreeTasks.add(h);
      if (this.recording) {
        this.recordCall(job, call, value, valueHash, callHash, children, subtreeTasks);
      }
      this.finishJob(job, cached ? "CACHED" : "DONE", callHash);
      return { value, callHash, subtreeTasks };
    } catch (error) {
      this.failJob(job, call, error);
      throw error;
    }
  }

  /**
   * Records a task's immediate result so it can be replayed. A result holding an `apply()`
   * of a plain function cannot be stored: that one reduction is then simply not cached.
   */
  private recordable(result: unknown, resultHash: string, task: Task): boolean {
    try {
      this.services.backend.recordValue(
        resultHash,
        result,
        `the result of task "${task.fullname}"`,
      );
      return true;
    } catch (error) {
      if (error instanceof UnsupportedValueError && containsExpression(result)) return false;
      throw error;
    }
  }

  /** The cached result for a job, if any is valid: a single reduction, or (shallow) a final call. */
  private async lookupCache(
    job: Job,
    options: TaskOptions,
  ): Promise<{ value: unknown; callHash?: undefined } | CallResult | undefined> {
    const { backend } = this.services;
    if (options.checkValid === "shallow") {
      const hit = await backend.getCallByEvalHash(job.evalHash);
      if (
        hit &&
        hit.subtreeTaskHashes.every((h) => this.taskHashes().has(h)) &&
        (await isValueValid(hit.value))
      ) {
        return {
          value: hit.value,
          callHash: hit.callHash,
          subtreeTasks: new Set(hit.subtreeTaskHashes),
        };
      }
      return undefined;
    }
    const hit = await backend.getEvaluation(job.evalHash);
    return hit && (await isValueValid(hit.value)) ? { value: hit.value } : undefined;
  }

  /** Hashes of every task defined now (a shallow cache hit needs all of its subtree's). */
  private taskHashes(): Set<string> {
    const tasks = allTasks();
    if (!this.knownTaskHashes || this.knownTaskCount !== tasks.length) {
      this.knownTaskHashes = new Set(tasks.map((t) => t.hash));
      this.knownTaskCount = tasks.length;
    }
    return this.knownTaskHashes;
  }

  /** Runs the task on its executor, holding its limits, with retries. */
  private async execute(
    job: Job,
    task: Task,
    args: unknown[],
    options: TaskOptions,
  ): Promise<unknown> {
    const { limits, status, getExecutor } = this.services;
    const amounts = limits.normalize(options.limits, task.fullname);
    const executor = getExecutor(options.executor ?? "default");
    const release = await limits.acquire(amounts);
    try {
      if (this.aborted)
        throw new CancelledError(`job for ${task.fullname} cancelled: the execution failed`);
      status.move(task.fullname, job.state, "RUNNING");
      job.state = "RUNNING";
      const retries = options.retries ?? 0;
      for (let attempt = 0; ; attempt++) {
        try {
          return await executor.submit({
            jobId: job.id,
            executionId: this.options.id,
            evalHash: job.evalHash,
            task,
            args,
            options: options as Readonly<Record<string, unknown>>,
          });
        } catch (error) {
          if (attempt >= retries || this.aborted) throw error;
          this.services.log(
            `[redun] Retrying ${task.fullname} (attempt ${attempt + 2} of ${retries + 1}): ${errorMessage(error)}\n`,
          );
        }
      }
    } finally {
      release();
    }
  }

  // ---- recording -----------------------------------------------------------------------

  private recordJob(job: Job, callHash: string | null, endTime: string | null = null): void {
    this.services.backend.recordJob({
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

  private finishJob(job: Job, state: "DONE" | "CACHED", callHash: string): void {
    this.services.status.move(job.task.fullname, job.state, state);
    job.state = state;
    if (this.recording) this.recordJob(job, callHash, new Date().toISOString());
  }

  private failJob(job: Job, call: { task: Task; argHashes: string[] }, error: unknown): void {
    if (error instanceof DryRunMiss) {
      this.services.status.move(job.task.fullname, job.state, "PENDING");
      return;
    }
    this.services.status.move(job.task.fullname, job.state, "FAILED");
    job.state = "FAILED";
    if (error && typeof error === "object" && !(FAILURE in error)) {
      Object.defineProperty(error, FAILURE, {
        value: { task: job.task.fullname, jobId: job.id } satisfies FailureInfo,
      });
    }
    if (!this.recording) return;
    let callHash: string | null = null;
    try {
      const errorHash = hashValue(error, "error");
      this.services.backend.recordValue(
        errorHash,
        error,
        `the error of task "${job.task.fullname}"`,
      );
      callHash = hashParts(["call", job.task.hash, hashParts(call.argHashes), errorHash]);
      this.services.backend.recordCall({
        callNode: {
          call_hash: callHash,
          task_name: job.task.fullname,
          task_hash: job.task.hash,
          args_hash: hashParts(call.argHashes),
          eval_hash: job.evalHash,
          value_hash: errorHash,
          timestamp: new Date().toISOString(),
        },
        edges: [],
        subtreeTasks: [],
        arguments: [],
        argumentResults: [],
      });
    } catch {
      // An error that cannot be recorded must not hide the original one.
    }
    this.recordJob(job, callHash, new Date().toISOString());
  }

  private recordCall(
    job: Job,
    call: {
      task: Task;
      args: unknown[];
      argHashes: string[];
      upstream: string[][];
      evalArgsHash: string;
    },
    value: unknown,
    valueHash: string,
    callHash: string,
    children: CallResult[],
    subtreeTasks: Set<string>,
  ): void {
    const { backend } = this.services;
    const { task } = call;
    backend.recordValue(valueHash, value, `the result of task "${task.fullname}"`);
    const args = call.args.map((arg, i) => {
      backend.recordValue(
        call.argHashes[i]!,
        arg,
        `argument "${task.paramNames[i] ?? i}" of task "${task.fullname}"`,
      );
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
        args_hash: hashParts(call.argHashes),
        eval_hash: job.evalHash,
        value_hash: valueHash,
        timestamp: new Date().toISOString(),
      },
      edges: children.map((child, i) => ({
        parent_id: callHash,
        child_id: child.callHash,
        call_order: i,
      })),
      subtreeTasks: [...subtreeTasks].map((h) => ({ call_hash: callHash, task_hash: h })),
      arguments: args,
      argumentResults: args.flatMap((arg, i) =>
        [...new Set(call.upstream[i])].map((result) => ({
          arg_hash: arg.arg_hash,
          result_call_hash: result,
        })),
      ),
    });
  }
}

/** Whether a value has an expression anywhere inside it (arrays, plain objects, Maps). */
function containsExpression(value: unknown): boolean {
  if (value === null || typeof value !== "object") return false;
  if (value instanceof Expression) return true;
  if (Array.isArray(value)) return value.some(containsExpression);
  if (value instanceof Map)
    return [...value].some(([k, v]) => containsExpression(k) || containsExpression(v));
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return false;
  for (const key in value)
    if (containsExpression((value as Record<string, unknown>)[key])) return true;
  return false;
}

function describeCall(task: Task, args: unknown[]): string {
  return new TaskExpression(task, args).describe();
}

/** The message of an error, or the text of a thrown non-error. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export type { JobState };
