/**
 * One execution: the graph reduction of an expression, with caching, common
 * sub-expression elimination, limits, retries and provenance recording.
 */
import { contextValue, mergeContext, type JobContext } from "../api/job-context.ts";
import type { CallTaskOptions, CacheScope, TaskOptions } from "../api/options.ts";
import { isTask, TaskExpression, type Task } from "../api/task.ts";
import type { Backend } from "../backend/backend.ts";
import type { Config } from "../config/config.ts";
import { missReason } from "../backend/queries.ts";
import { DatabaseUnavailableError } from "../backend/retry.ts";
import {
  containsExpression,
  describeValue,
  Expression,
  SchedulerExpression,
  SimpleExpression,
  ValueExpression,
} from "../expressions/expression.ts";
import { Delayed } from "../expressions/helpers.ts";
import { hashParts, hashValue } from "../values/hash.ts";
import { errorIsA } from "../values/serialize.ts";
import { UnsupportedValueError } from "../values/errors.ts";
import { CacheLookup } from "./cache-lookup.ts";
import { CancelledError, DryRunMiss, failureInfo } from "./failure.ts";
import { evaluateHelper, type Scope } from "./helper-evaluation.ts";
import { InterruptedError } from "./interrupt.ts";
import { catchTask, isInternalTask, rootTask } from "./internal-tasks.ts";
import { withDefaultArgs } from "./default-args.ts";
import { Job, subtreeTasks as subtreeTasksOf, type CallResult } from "./job.ts";
import { EVALUATION_CHUNK, evaluateInChunks } from "./list-evaluation.ts";
import { callHashOf, Recorder, type CallRecord } from "./recorder.ts";
import { ClaimKeeper } from "./claim-keeper.ts";
import { JobOutcomes } from "./job-outcomes.ts";
import type { JobStatusTable } from "./status.ts";
import type { JobLog } from "./job-log.ts";
import { submitJob, type SubmitServices } from "./submit.ts";
import { schedulerTaskBody } from "./scheduler-task.ts";
import { prepared, prepareValue } from "./validity.ts";
import { tagPairs } from "./execution-tags.ts";
import { cacheScopeOf, callOptions } from "./call-options.ts";

/** How an execution was asked to run. */
export interface ExecutionOptions {
  id: string;
  /** `false` is `--no-cache`: no result is replayed from earlier executions. */
  cache: boolean;
  /** Look up the cache but run nothing; report what would run. */
  dryrun: boolean;
  /** Options for the root call (`redun run -o key=value`). */
  rootOptions: CallTaskOptions;
  /** The context the root call starts with. */
  context?: JobContext;
  /** `false` is `--no-prov`: nothing is recorded (and nothing cached beyond CSE). */
  prov?: boolean;
  /** How long a claim on a call lasts unless renewed (see `claim-keeper.ts`). */
  callLeaseMs?: number;
  /** Tags recorded on the execution. */
  tags?: [string, unknown][];
}

/** What the execution needs from its scheduler. */
export interface ExecutionServices extends SubmitServices {
  backend: Backend;
  status: JobStatusTable;
  jobLog: JobLog;
  /** The scheduler's configuration (for scheduler tasks such as subrun). */
  config?: Config;
}

/** A call in progress, shared by every call site with its eval hash (CSE). */
interface SharedCall {
  promise: Promise<CallResult>;
  job: Job;
}

/** A call as `runJob` needs it. */
interface PendingCall extends CallRecord {
  options: TaskOptions;
  childExport: CallTaskOptions;
  scope: CacheScope;
  /** Whether the call and the calls beneath it are recorded (`prov`). */
  prov: boolean;
}

/** A dry-run miss: the call, and why it misses the cache. */
export interface DryRunEntry {
  call: string;
  reason: string;
}

export class Execution {
  /** Calls of this execution by eval hash: shared, so no call runs twice (CSE). */
  private readonly calls = new Map<string, SharedCall>();
  /** Calls with `cacheScope: "none"`, by expression object: one expression runs once. */
  private readonly uncachedCalls = new WeakMap<TaskExpression, SharedCall>();
  /**
   * Simple and scheduler expressions by job and hash: shared within a job, but evaluated
   * once per job, so every job that reaches a call through one records it as its child
   * (the calls themselves are still shared through `calls`).
   */
  private readonly expressions = new Map<
    string,
    { promise: Promise<unknown>; upstream: string[] }
  >();
  /** Calls reached from the root (see `Job.callSites`). */
  private readonly rootCallSites = new Set<string>();
  /** Every call in progress, so a failed execution can wait for them before it ends. */
  private readonly inflight = new Set<Promise<unknown>>();
  private readonly recorder: Recorder;
  private readonly cache: CacheLookup;
  private readonly claims: ClaimKeeper;
  private readonly outcomes: JobOutcomes;
  private aborted = false;
  private rootJob: Job | undefined;
  readonly dryrunMisses: DryRunEntry[] = [];

  constructor(
    private readonly options: ExecutionOptions,
    private readonly services: ExecutionServices,
  ) {
    this.recorder = new Recorder(services.backend);
    this.cache = new CacheLookup(services.backend);
    this.outcomes = new JobOutcomes(services, this.recorder);
    this.claims = new ClaimKeeper(services.backend, options.id, options.callLeaseMs, services.log);
  }

  /**
   * Evaluates an expression (or a value with expressions inside) to a concrete value. An
   * expression that is not a single call (a list of calls, a `cond`, …) is evaluated beneath
   * one root job, as Python redun does.
   */
  async run(expr: unknown): Promise<unknown> {
    const root =
      expr instanceof TaskExpression || !containsExpression(expr)
        ? expr
        : rootTask(new Delayed(expr instanceof Expression ? expr : new ValueExpression(expr)));
    const { tags, dryrun, prov } = this.options;
    if (tags?.length && !dryrun && prov !== false)
      this.recorder.tags("execution", this.options.id, tags);
    try {
      return await this.evaluate(root, {
        job: undefined,
        exportOptions: {},
        context: this.options.context ?? {},
        prov: this.options.prov ?? true,
      });
    } catch (error) {
      this.aborted = true;
      await this.drain();
      throw error;
    } finally {
      if (this.claims.enabled && !this.options.dryrun) await this.claims.close();
    }
  }

  /** The job of the root call, once it exists. */
  get rootJobId(): string | undefined {
    return this.rootJob?.id;
  }

  private async drain(): Promise<void> {
    while (this.inflight.size > 0) await Promise.allSettled([...this.inflight]);
  }

  // ---- reduction -----------------------------------------------------------------------

  /** @internal (for `evaluateHelper`) */
  evaluate(value: unknown, scope: Scope): Promise<unknown> | unknown {
    if (value instanceof Expression) return this.evaluateExpression(value, scope);
    if (!containsExpression(value)) return value;
    if (Array.isArray(value)) {
      if (value.length <= EVALUATION_CHUNK)
        return Promise.all(value.map((v) => this.evaluate(v, scope)));
      // Hundreds of calls: many rows are coming.
      if (scope.prov && !this.options.dryrun) this.services.backend.expectManyRows();
      return evaluateInChunks(value, (v) => this.evaluate(v, scope));
    }
    if (value instanceof Map) {
      const entries = [...value];
      return Promise.all(
        entries.map(
          async ([k, v]) => [await this.evaluate(k, scope), await this.evaluate(v, scope)] as const,
        ),
      ).then((pairs) => new Map(pairs));
    }
    const keys = Object.keys(value as object);
    return Promise.all(
      keys.map((k) => this.evaluate((value as Record<string, unknown>)[k], scope)),
    ).then((values) => {
      const out: Record<string, unknown> = {};
      keys.forEach((k, i) => (out[k] = values[i]));
      return out;
    });
  }

  private evaluateExpression(expr: Expression, scope: Scope): Promise<unknown> | unknown {
    if (expr instanceof TaskExpression) return this.evaluateCall(expr, scope);
    if (expr instanceof ValueExpression) return this.evaluate(expr.value, scope);
    let hash: string;
    try {
      hash = expr.hash;
    } catch {
      // A remote File inside has no hash until it is prepared (a request): prepare, then
      // hash again (an error this time is the expression's own).
      return prepareValue(expr).then(() => this.evaluateShared(expr, expr.hash, scope));
    }
    return this.evaluateShared(expr, hash, scope);
  }

  /** A simple or scheduler expression, evaluated once per job (see `expressions`). */
  private evaluateShared(expr: Expression, hash: string, scope: Scope): Promise<unknown> {
    const key = `${scope.job?.id ?? ""}/${hash}`;
    let shared = this.expressions.get(key);
    if (!shared) {
      // The calls an expression's value came from are kept with it, so every argument that
      // reuses the expression records them as its upstream too.
      const upstream: string[] = [];
      const inner = { ...scope, upstream };
      const promise =
        expr instanceof SimpleExpression
          ? this.evaluateSimple(expr, inner)
          : this.evaluateScheduler(expr as SchedulerExpression, inner);
      shared = { promise, upstream };
      this.expressions.set(key, shared);
    }
    const target = scope.upstream;
    if (!target) return shared.promise;
    const { upstream } = shared;
    return shared.promise.then((value) => {
      target.push(...upstream);
      return value;
    });
  }

  private async evaluateSimple(expr: SimpleExpression, scope: Scope): Promise<unknown> {
    if (expr.op === "getitem") {
      const [target, key] = (await this.evaluate(expr.args, scope)) as [any, string | number];
      if (target instanceof Map) return target.get(key);
      if (target === null || target === undefined) {
        throw new TypeError(
          `Cannot read ${JSON.stringify(key)} of ${target} (in ${expr.describe()})`,
        );
      }
      return target[key];
    }
    const [fn, ...rest] = expr.args as [Function, ...unknown[]];
    const args = (await this.evaluate(rest, scope)) as unknown[];
    return this.evaluate(await fn(...args), scope);
  }

  private evaluateScheduler(expr: SchedulerExpression, scope: Scope): Promise<unknown> {
    return evaluateHelper(this, expr, scope);
  }

  /** `getContext(path, default)` read in a given context. @internal (for `evaluateHelper`) */
  async contextValue(
    expr: SchedulerExpression,
    scope: Scope,
    context: JobContext,
  ): Promise<unknown> {
    const [dottedPath, fallback] = expr.args as [string, unknown];
    const found = contextValue(context, dottedPath, MISSING);
    return found === MISSING ? this.evaluate(fallback, scope) : found;
  }

  /**
   * A value for a call's argument or option: `getContext(...)` given directly is read in
   * the call's own context (so `task.updateContext` reaches its defaults), anything else is
   * evaluated where the call was made.
   */
  private evaluateFor(value: unknown, scope: Scope, context: JobContext): unknown {
    if (value instanceof SchedulerExpression && value.op === "context") {
      return this.contextValue(value, scope, context);
    }
    return this.evaluate(value, scope);
  }

  // ---- task calls ----------------------------------------------------------------------

  /** @internal (for `evaluateHelper`) */
  evaluateCall(expr: TaskExpression, scope: Scope, argUpstream?: string[][]): Promise<unknown> {
    const slot: { job?: Job } = {};
    const result = this.call(expr, scope, slot, argUpstream);
    const parent = scope.job;
    if (parent) {
      // A failed child is kept as its failed call: a catch_ that recovered records it among
      // its children; any other parent fails with it.
      const index = parent.children.length;
      parent.children.push(
        result.then(
          (r) => (parent.settled[index] = r),
          (error) => (parent.settled[index] = slot.job?.failedResult(error)),
        ),
      );
    }
    return result.then((r) => {
      scope.upstream?.push(r.callHash);
      return r.value;
    });
  }

  private async call(
    source: TaskExpression,
    scope: Scope,
    slot: { job?: Job },
    argUpstream?: string[][],
  ): Promise<CallResult> {
    const expr = withDefaultArgs(source); // Parameter defaults are arguments too (default-args.ts).
    const task = expr.task;
    const context = mergeContext(scope.context, expr.callOptions.context);
    const upstream = expr.args.map((_, i) => [...(argUpstream?.[i] ?? [])]);
    // Plain arguments (most calls of a fan-out) are their own values. Here and below, a
    // step that may finish at once is awaited only when it did not: each await suspends
    // the call, which a fan-out of tiny tasks pays for in time and memory per job.
    const evaluated = expr.args.some((arg) => containsExpression(arg))
      ? await Promise.all(
          expr.args.map((arg, i) =>
            this.evaluateFor(arg, { ...scope, upstream: upstream[i] }, context),
          ),
        )
      : expr.args.slice();
    // Registered values are prepared before hashing (a remote File fetches its ETag).
    const preparing = prepared(evaluated);
    const args = (preparing instanceof Promise ? await preparing : preparing) as unknown[];
    const optionsOrPromise = callOptions(expr, scope, this.options.rootOptions, (value) =>
      this.evaluateFor(value, scope, context),
    );
    const options = optionsOrPromise instanceof Promise ? await optionsOrPromise : optionsOrPromise;
    const { exportOptions } = expr.callOptions;
    const childExport = isEmpty(exportOptions)
      ? scope.exportOptions
      : { ...scope.exportOptions, ...exportOptions };
    const argHashes = args.map((arg, i) =>
      hashValue(arg, `argument "${task.paramNames[i] ?? i}" of task "${task.fullname}"`),
    );
    const argsHash = hashParts(argHashes);
    const configArgs = options.configArgs;
    const evalArgsHash = configArgs?.length
      ? hashParts(argHashes.filter((_, i) => !configArgs.includes(task.paramNames[i] ?? "")))
      : argsHash;
    const evalHash = hashParts(["eval", task.hash, evalArgsHash]);
    const prov = scope.prov && options.prov !== false;
    const cacheScope = cacheScopeOf(options, prov, this.options.cache);

    // One call reached again from the same job is one call site, one job; reached from
    // another job, it is shared (CSE) and that call site gets a job of its own.
    const sites = scope.job?.callSites ?? this.rootCallSites;
    const shared =
      cacheScope === "none" ? this.uncachedCalls.get(source) : this.calls.get(evalHash);
    if (shared) {
      slot.job = shared.job;
      if (cacheScope === "none" || sites.has(evalHash)) return shared.promise;
      sites.add(evalHash);
      return this.sharedCall(shared, scope, context, prov && !this.options.dryrun);
    }
    sites.add(evalHash);
    const job = new Job(
      task,
      evalHash,
      scope.job,
      this.options.id,
      context,
      prov && !this.options.dryrun,
    );
    slot.job = job;
    const promise = this.runJob(job, {
      task,
      args,
      argHashes,
      argsHash,
      evalArgsHash,
      upstream,
      options,
      childExport,
      scope: cacheScope,
      prov,
    });
    if (cacheScope === "none") this.uncachedCalls.set(source, { promise, job });
    else this.calls.set(evalHash, { promise, job });
    this.inflight.add(promise);
    void promise.then(
      () => this.inflight.delete(promise),
      () => this.inflight.delete(promise),
    );
    return promise;
  }

  /**
   * A call site whose call is already in progress (CSE). It gets a job of its own, recorded
   * as CACHED with the shared call's hash, as in Python redun.
   */
  private sharedCall(
    shared: SharedCall,
    scope: Scope,
    context: JobContext,
    recorded: boolean,
  ): Promise<CallResult> {
    const source = shared.job;
    if (!recorded) return shared.promise;
    const job = new Job(source.task, source.evalHash, scope.job, this.options.id, context, true);
    const end = () => new Date().toISOString();
    return shared.promise.then(
      (result) => {
        this.services.status.move(job.task.fullname, undefined, "CACHED");
        job.state = "CACHED";
        this.services.jobLog.cached(job, undefined, result.callHash, source);
        this.recorder.job(job, result.callHash, end());
        return result;
      },
      (error) => {
        job.state = error instanceof InterruptedError ? "INTERRUPTED" : "FAILED";
        this.recorder.job(job, source.failedCallHash ?? null, end());
        throw error;
      },
    );
  }

  private async runJob(job: Job, call: PendingCall): Promise<CallResult> {
    const { task, args, options, scope } = call;
    const { backend, status } = this.services;
    if (!job.parent) this.rootJob ??= job;
    status.move(task.fullname, undefined, "PENDING");
    if (job.recorded) {
      backend.recordTask(task);
      this.recorder.job(job, null);
      if (Object.keys(job.context).length > 0) this.recorder.context(job, job.context);
      if (options.tags) this.recorder.tags("job", job.id, tagPairs(options.tags));
    }
    const childScope: Scope = {
      job,
      exportOptions: call.childExport,
      context: job.context,
      prov: call.prov,
    };
    // Another scheduler sharing the database may be running this very call: claim it
    // first, or wait for its result (see claim-keeper.ts).
    let holding = false;
    const release = () => {
      if (holding) this.claims.release(job.evalHash);
      holding = false;
    };
    try {
      let cached = scope === "backend" ? await this.cache.lookup(job, options) : undefined;
      if (!cached && scope === "backend" && job.recorded && this.claimable(task)) {
        cached = await this.claims.claim(job.evalHash, () => this.cache.lookup(job, options));
        holding = cached === undefined;
      }
      if (cached?.callHash !== undefined) {
        // Ultimate reduction: the final value, trusted as is.
        this.outcomes.finish(job, "CACHED", cached.callHash, args);
        return cached;
      }
      let result: unknown;
      let resultHash: string | undefined;
      if (cached) {
        result = cached.value;
      } else if (task === catchTask) {
        result = await this.runCatch((args[0] as Delayed<unknown>).expr, childScope);
      } else {
        if (this.options.dryrun && !isInternalTask(task)) {
          const description = describeCall(task, args);
          this.dryrunMisses.push({ call: description, reason: await this.missReason(call) });
          throw new DryRunMiss(description);
        }
        const submit = (a: unknown[]) =>
          submitJob(this.services, job, task, a, options, () => this.aborted);
        const body = schedulerTaskBody(task); // e.g. subrun (scheduler-task.ts)
        const returned =
          task === rootTask
            ? await task.func(...args)
            : body
              ? await body(args, {
                  ...this.services,
                  job,
                  options,
                  exportOptions: call.childExport,
                  dryrun: this.options.dryrun,
                  cache: this.options.cache,
                  submit,
                })
              : await submit(args);
        const preparing = prepared(returned);
        result = preparing instanceof Promise ? await preparing : preparing;
        resultHash = hashValue(result, `result of task "${task.fullname}"`);
        if (job.recorded && this.recordable(result, resultHash, task)) {
          backend.recordEvaluation({
            eval_hash: job.evalHash,
            task_hash: task.hash,
            args_hash: call.evalArgsHash,
            value_hash: resultHash,
          });
        }
        release();
      }
      const evaluating = this.evaluate(result, childScope);
      const value = evaluating instanceof Promise ? await evaluating : evaluating;
      const children =
        job.children.length === 0
          ? []
          : (await Promise.all(job.children)).filter((c): c is CallResult => c !== undefined);
      // A result without expressions is its own value: hashed once.
      const valueHash =
        value === result && resultHash !== undefined
          ? resultHash
          : hashValue(value, `result of task "${task.fullname}"`);
      const callHash = callHashOf(false, task.hash, call.argsHash, valueHash, children);
      const subtreeTasks = subtreeTasksOf(task.hash, children);
      // A cached reduction that led to a call already recorded records nothing new (as
      // Python redun skips an existing call node: its rows are all there).
      if (job.recorded && !cached?.knownCalls.includes(callHash)) {
        this.recorder.call(job, call, { value, valueHash }, callHash, children, subtreeTasks);
      }
      this.outcomes.finish(job, cached ? "CACHED" : "DONE", callHash, args);
      return { value, callHash, subtreeTasks };
    } catch (error) {
      this.outcomes.fail(job, call, error);
      release();
      throw error;
    }
  }

  /** Whether a call's task body is claimed before it runs (a body of the engine's is not). */
  private claimable(task: Task): boolean {
    return this.claims.enabled && !this.options.dryrun && !isInternalTask(task);
  }

  /**
   * The body of a `catch_` job: evaluates the expression beneath the job; on an error of a
   * listed class, calls the handler with it (the handler's argument records the failed call
   * it came from).
   */
  private async runCatch(catchExpr: Expression, scope: Scope): Promise<unknown> {
    const [inner, pairs] = (catchExpr as SchedulerExpression).args as [
      unknown,
      [string[], unknown][],
    ];
    try {
      return await this.evaluate(inner, scope);
    } catch (error) {
      // The engine's own errors are never the workflow's to recover from.
      if (
        error instanceof DryRunMiss ||
        error instanceof CancelledError ||
        error instanceof DatabaseUnavailableError ||
        error instanceof InterruptedError
      ) {
        throw error;
      }
      for (const [classNames, handlerArg] of pairs) {
        if (!classNames.some((name) => errorIsA(error, name))) continue;
        const handler = await this.evaluate(handlerArg, scope);
        if (!isTask(handler)) {
          throw new TypeError(
            `catch_(): the handler must be a task, got ${describeValue(handler)}`,
          );
        }
        this.outcomes.recovered(error);
        const failed = failureInfo(error)?.callHash;
        return this.evaluateCall(handler(error), scope, [failed ? [failed] : []]);
      }
      throw error;
    }
  }

  /** Why a call misses the cache, for a dry run: `new task`, `new args` or `new call`. */
  private missReason(call: PendingCall): Promise<string> {
    return this.services.backend
      .read((db) =>
        missReason(db, {
          taskName: call.task.fullname,
          taskHash: call.task.hash,
          argsHash: call.evalArgsHash,
        }),
      )
      .catch(() => "new call");
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
}

const MISSING = Symbol("missing");

function isEmpty(object: object | undefined): boolean {
  for (const _ in object) return false;
  return true;
}

function describeCall(task: Task, args: unknown[]): string {
  return new TaskExpression(task, args).describe();
}
