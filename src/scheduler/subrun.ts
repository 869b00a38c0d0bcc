/**
 * `subrun(expr, executor, options)`, as Python redun defines it: one job on `executor` whose
 * body starts a scheduler of its own, evaluates `expr` there with the job's local
 * executors, and returns the result. The scheduler side (a scheduler task, see
 * scheduler-task.ts) prepares the job's configuration and database, and afterwards imports
 * the records that travelled back and logs the sub-scheduler's job table.
 */
import { randomUUID } from "node:crypto";
import fs from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import type { JobContext } from "../api/job-context.ts";
import type { CallTaskOptions } from "../api/options.ts";
import { getTask, task, TaskExpression, type Task } from "../api/task.ts";
import type { Resolved } from "../api/types.ts";
import { importModule } from "../api/workflow-module.ts";
import { Backend, type BackendOptions } from "../backend/backend.ts";
import { backendOptionsFromConfig } from "../backend/from-config.ts";
import { decodeRow, exportRows, importRows, type ExportRow } from "../backend/transfer.ts";
import { CONFIG_DIR_NAME, Config, type ConfigData } from "../config/config.ts";
import { Expression, ValueExpression } from "../expressions/expression.ts";
import { Delayed } from "../expressions/helpers.ts";
import { RedunError } from "../values/errors.ts";
import { registerErrorClass } from "../values/serialize.ts";
import { registerSchedulerTask, type SchedulerTaskCall } from "./scheduler-task.ts";
import { Scheduler } from "./scheduler.ts";

/** Options of {@link subrun}: how the sub-scheduler is set up, and task options for its job. */
export interface SubrunOptions extends CallTaskOptions {
  /**
   * The sub-scheduler's configuration. Default: the calling scheduler's, with its
   * configuration directory replaced by `.redun` under the job's working directory when
   * the job cannot see the original one.
   */
  config?: Config | ConfigData;
  /** A configuration directory to load where the job runs (absolute, or relative to it). */
  configDir?: string;
  /**
   * `true`: the sub-scheduler records an execution of its own. Default: it extends the
   * calling execution (same id; its root job is a child of the subrun job).
   */
  newExecution?: boolean;
  /**
   * Modules to import where the job runs before `expr` is evaluated (paths relative to the
   * job's code directory or working directory, absolute paths, or package names). The
   * modules of the tasks in `expr` are always imported.
   */
  loadModules?: string[];
}

/** A call of a task the caller cannot import (a federated task): its name and arguments. */
export interface RemoteCall {
  /** `namespace.task_name`. */
  task: string;
  args: unknown[];
  /** For messages: the federated entry point, and the module expected to define the task. */
  entrypoint?: string;
  loadModule?: string;
}

/** What the subrun call carries (hashed apart from `spec`, a config argument). */
interface SubrunSpec {
  config?: ConfigData;
  configDir?: string;
  newExecution?: boolean;
  loadModules?: string[];
}

/** What the job receives: the spec, completed by the scheduler. */
export interface SubrunJobSpec extends SubrunSpec {
  executionId?: string;
  /** The subrun job: the parent of the sub-scheduler's root job (unless `newExecution`). */
  parentJobId?: string;
  cache: boolean;
  dryrun: boolean;
  context: JobContext;
  exportOptions: CallTaskOptions;
  /** Where the calling scheduler records provenance (if the job can reach it). */
  database?: BackendOptions;
  /** Recorded as the execution's arguments when the sub-scheduler records its own. */
  description?: string[];
}

/** What the job returns. */
export interface SubrunJobResult {
  result?: unknown;
  /** The error of the sub-workflow (with its traceback), when it failed. */
  error?: unknown;
  /** The sub-scheduler's job table. */
  report: string;
  executionId: string;
  /** Whether the sub-scheduler wrote to the caller's database itself. */
  sharedDatabase: boolean;
  /** The records of a sub-scheduler that wrote to a database of its own. */
  records?: unknown[];
}

/** A subrun that cannot start (a bad load_module, a task the modules do not define, …). */
export class SubrunError extends RedunError {
  override name = "SubrunError";
  override get code() {
    return "REDUN_SUBRUN" as const;
  }
}
registerErrorClass(SubrunError);

/**
 * The subrun job. Its function is what runs where the job runs; in the scheduler it is a
 * scheduler task ({@link runSubrunInScheduler}). Its own call is cached with shallow
 * validity: the result is replayed as long as the expression and the executor are the same.
 */
export const subrunTask: Task<[Delayed<unknown> | RemoteCall, string, SubrunSpec], unknown> = task(
  {
    name: "subrun",
    namespace: "redun",
    version: "1",
    configArgs: ["spec"],
    checkValid: "shallow",
  },
  function subrun(expr: Delayed<unknown> | RemoteCall, executor: string, spec: SubrunSpec) {
    return runSubrunJob(expr, executor, spec as SubrunJobSpec);
  },
);

/**
 * Evaluates `expr` in a scheduler of its own, inside one job on `executor`, and returns its
 * result. Task options (`memory`, `vcpus`, `image`, …) apply to that job.
 *
 * @example
 * // One container runs the whole fan-out with its local thread pool.
 * export const main = task(function main(n: number) {
 *   return subrun(fanOut(n), "docker", { memory: 8 });
 * });
 */
export function subrun<T>(
  expr: T,
  executor: string,
  options: SubrunOptions = {},
): TaskExpression<Resolved<T>> {
  const { config, configDir, newExecution, loadModules, ...taskOptions } = options;
  const spec: SubrunSpec = {};
  if (config) spec.config = config instanceof Config ? config.toData() : config;
  if (configDir !== undefined) spec.configDir = configDir;
  if (newExecution) spec.newExecution = true;
  if (loadModules) spec.loadModules = [...loadModules];
  const quoted = new Delayed(expr instanceof Expression ? expr : new ValueExpression(expr));
  return subrunCall(quoted, executor, spec, taskOptions) as TaskExpression<Resolved<T>>;
}

/** The subrun call of an expression or a remote call (also used by federated tasks). */
export function subrunCall(
  expr: Delayed<unknown> | RemoteCall,
  executor: string,
  spec: SubrunSpec,
  taskOptions: CallTaskOptions = {},
): TaskExpression<unknown> {
  return subrunTask.options({ ...taskOptions, executor })(expr, executor, spec);
}

// ---- in the scheduler ------------------------------------------------------------------

/** Where the caller records provenance, as the job may reach it (undefined: in memory). */
function callerDatabase(call: SchedulerTaskCall): BackendOptions | undefined {
  const { handle } = call.backend;
  if (handle.dialect === "sqlite") {
    if (handle.location === ":memory:") return undefined;
    return { dbUri: `sqlite:///${handle.location}`, sqlitePath: handle.location };
  }
  return call.config ? backendOptionsFromConfig(call.config.backend) : undefined;
}

/** The scheduler side of a subrun: completes the spec, runs the job, imports its records. */
async function runSubrunInScheduler(args: unknown[], call: SchedulerTaskCall): Promise<unknown> {
  const [expr, executor, spec] = args as [Delayed<unknown> | RemoteCall, string, SubrunSpec];
  const extend = !spec.newExecution;
  const jobSpec: SubrunJobSpec = {
    ...spec,
    config: spec.config ?? (spec.configDir === undefined ? call.config?.toData() : undefined),
    executionId: extend ? call.job.executionId : undefined,
    parentJobId: extend ? call.job.id : undefined,
    cache: call.cache,
    dryrun: call.dryrun,
    context: call.job.context,
    exportOptions: call.exportOptions,
    database: callerDatabase(call),
    description: ["subrun", executor],
  };
  const out = (await call.submit([expr, executor, jobSpec])) as SubrunJobResult;
  if (out.records?.length) {
    await call.backend.flush();
    await importRows(
      call.backend,
      out.records.map((r) => decodeRow(r, "the records of a subrun")),
    );
  }
  call.log(
    `[redun] Sub-scheduler report (redun.subrun on executor "${executor}", execution ` +
      `${out.executionId}${out.sharedDatabase ? "" : `, ${out.records?.length ?? 0} records imported`}):\n` +
      out.report,
  );
  if (out.error !== undefined) throw out.error;
  return out.result;
}

registerSchedulerTask(subrunTask, runSubrunInScheduler);

// ---- where the job runs ----------------------------------------------------------------

/** A path relative to the job's code (`REDUN_CODE_DIR`, set by oneshot) or working directory. */
function resolveInJob(p: string): string | undefined {
  if (path.isAbsolute(p)) return fs.existsSync(p) ? p : undefined;
  for (const base of [process.env.REDUN_CODE_DIR, process.cwd()]) {
    if (base && fs.existsSync(path.resolve(base, p))) return path.resolve(base, p);
  }
  return undefined;
}

async function loadModule(spec: string): Promise<void> {
  let file = resolveInJob(spec);
  if (!file) {
    try {
      file = createRequire(path.join(process.cwd(), "noop.js")).resolve(spec);
    } catch {
      throw new SubrunError(
        `subrun: cannot find the module "${spec}" to load (looked in ` +
          `${[process.env.REDUN_CODE_DIR, process.cwd()].filter(Boolean).join(" and ")})`,
      );
    }
  }
  await importModule(file);
}

/** The sub-scheduler's configuration, where the job runs. */
function jobConfig(spec: SubrunJobSpec): Config {
  if (spec.configDir !== undefined) {
    const dir = resolveInJob(spec.configDir);
    if (!dir)
      throw new SubrunError(
        `subrun: the configuration directory ${spec.configDir} does not exist where the job runs`,
      );
    return Config.fromDir(dir);
  }
  if (!spec.config) return Config.fromString("", { configDir: path.resolve(CONFIG_DIR_NAME) });
  // As redun replaces the config dir by ".": relative paths follow the job when the
  // caller's directory is not there.
  const configDir = fs.existsSync(spec.config.configDir)
    ? spec.config.configDir
    : path.resolve(CONFIG_DIR_NAME);
  return Config.fromData({ ...spec.config, configDir });
}

/**
 * The caller's database when the job can reach it (PostgreSQL, or a SQLite file on a path
 * the job sees too), else a SQLite file of the job's own whose records travel back.
 */
async function openJobBackend(
  spec: SubrunJobSpec,
): Promise<{ backend: Backend; shared: boolean; tempDir?: string }> {
  const db = spec.database;
  const reachable = db?.sqlitePath
    ? db.sqlitePath !== ":memory:" && fs.existsSync(db.sqlitePath)
    : Boolean(db?.dbUri && /^postgres(ql)?:/.test(db.dbUri));
  if (db && reachable) {
    try {
      return { backend: await Backend.open(db), shared: true };
    } catch (error) {
      process.stderr.write(
        `[redun] subrun: the caller's database is not reachable (${(error as Error).message.split("\n")[0]}); ` +
          "recording to a local one whose records go back with the result\n",
      );
    }
  }
  const tempDir = fs.mkdtempSync(path.join(os.tmpdir(), "redun-subrun-"));
  const file = path.join(tempDir, "redun.db");
  const backend = await Backend.open({ dbUri: `sqlite:///${file}`, sqlitePath: file });
  return { backend, shared: false, tempDir };
}

/**
 * Links the sub-scheduler's records into the caller's execution: its root job becomes a
 * child of the subrun job, and (in the caller's database) the execution row stays the
 * caller's.
 */
function linkToCaller(backend: Backend, spec: SubrunJobSpec, shared: boolean): void {
  const parentJobId = spec.parentJobId;
  if (parentJobId === undefined) return;
  const recordJob = backend.recordJob.bind(backend);
  backend.recordJob = (row) => recordJob({ ...row, parent_id: row.parent_id ?? parentJobId });
  if (shared) backend.recordExecution = () => {};
}

/** The expression to evaluate: the quoted one, or a remote call built once its module loaded. */
function jobExpression(expr: Delayed<unknown> | RemoteCall, spec: SubrunJobSpec): unknown {
  let inner: unknown;
  if (expr instanceof Delayed) {
    inner = expr.expr;
  } else {
    const t = getTask(expr.task);
    if (!t) {
      throw new SubrunError(
        (expr.entrypoint ? `federated entry point "${expr.entrypoint}": ` : "") +
          `load_module "${expr.loadModule ?? "?"}" does not define the task "${expr.task}"`,
      );
    }
    inner = t(...(expr.args as any[]));
  }
  if (inner instanceof TaskExpression && Object.keys(spec.exportOptions).length > 0) {
    const own = inner.callOptions;
    inner = new TaskExpression(inner.task, inner.args, {
      ...own,
      exportOptions: { ...spec.exportOptions, ...own.exportOptions },
    });
  }
  return inner instanceof ValueExpression ? inner.value : inner;
}

/** The body of the subrun job: a scheduler of its own evaluates the expression. */
async function runSubrunJob(
  expr: Delayed<unknown> | RemoteCall,
  executor: string,
  spec: SubrunJobSpec,
): Promise<SubrunJobResult> {
  for (const module of spec.loadModules ?? []) await loadModule(module);
  const config = jobConfig(spec);
  const value = jobExpression(expr, spec);
  const { backend, shared, tempDir } = await openJobBackend(spec);
  linkToCaller(backend, spec, shared);
  const messages: string[] = [];
  const scheduler = new Scheduler({
    config,
    backend,
    jobStatusInterval: 0,
    log: (text) => messages.push(text),
  });
  const executionId = spec.executionId ?? randomUUID();
  const out: SubrunJobResult = { report: "", executionId, sharedDatabase: shared };
  try {
    try {
      out.result = await scheduler.run(value, {
        executionId,
        cache: spec.cache,
        dryrun: spec.dryrun,
        context: spec.context as Record<string, unknown>,
        description: spec.description ?? ["subrun", executor],
      });
    } catch (error) {
      out.error = error;
    }
    out.report = scheduler.status.format("Sub-scheduler jobs");
    // The sub-scheduler's own messages (warnings, retries) go to the job's log.
    const log = messages.filter((m) => !m.includes("TOTAL")).join("");
    if (log) process.stderr.write(log);
    if (!shared) {
      const records: ExportRow[] = [];
      for await (const row of exportRows(backend, { executionIds: [executionId] })) {
        // The caller's execution row is the caller's to write.
        if (spec.parentJobId !== undefined && row.table === "execution") continue;
        records.push(row);
      }
      out.records = records;
    }
  } finally {
    await scheduler.close();
    if (tempDir) fs.rmSync(tempDir, { recursive: true, force: true });
  }
  return out;
}
