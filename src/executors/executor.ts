/**
 * The executor contract and the registry of executor types. The scheduler and the
 * configuration know executors only through this module: each type is registered by its
 * `type` name with a factory, the schema of its `[executors.NAME]` options and the checks of
 * its task options, or, built in, as a loader that imports its module when a configuration
 * first names the type (src/executors/builtin.ts), so no executor, SDK or driver loads before.
 */
import { registerTaskOptionChecks, type TaskOptionKind } from "../api/option-validation.ts";
import type { Task } from "../api/task.ts";
import {
  defineExecutorSchema,
  executorSchema,
  registerExecutorSchema,
  reserveExecutorType,
} from "../config/executor-options.ts";
import type { OptionSchema } from "../config/option-schema.ts";

/** One job, as an executor receives it. */
export interface JobSpec {
  jobId: string;
  executionId: string;
  /** Hash of the task and its arguments; remote executors key their scratch files by it. */
  evalHash: string;
  task: Task;
  /** Concrete arguments (every expression already evaluated). */
  args: unknown[];
  /** The call's effective task options (definition, exported and call-time merged). */
  options: Readonly<Record<string, unknown>>;
}

/** Runs jobs somewhere: on this thread, a worker pool, a container, a cloud service. */
export interface Executor {
  /** The executor's name from `[executors.NAME]`. */
  readonly name: string;
  /**
   * Runs a job. Resolves with the task function's result (which may contain expressions
   * for the scheduler to evaluate); rejects with the task's error.
   */
  submit(job: JobSpec): Promise<unknown>;
  /** Stops workers and releases resources. Jobs still running are abandoned. */
  stop(): Promise<void>;
}

/** What an executor factory can use besides its own options. */
export interface ExecutorContext {
  /** Looks up another executor by name (for `alias`). */
  getExecutor(name: string): Executor;
  /** The configuration directory, for resolving relative paths. */
  configDir?: string;
}

/**
 * Creates an executor from its `[executors.NAME]` options (raw strings from the ini file
 * or values from the API); the factory parses and validates them.
 */
export type ExecutorFactory = (
  name: string,
  options: Readonly<Record<string, unknown>>,
  context: ExecutorContext,
) => Executor;

/** What an executor type declares besides its factory. */
export interface ExecutorTypeOptions {
  /**
   * Its `[executors.NAME]` options: sections of this type are checked against it (unknown
   * keys warned about, bad values refused with the file, section and key) and defaults filled.
   */
  schema?: OptionSchema;
  /**
   * The task options it reads (camelCase), by kind (`"string"`, `"number"`, …) or check, so
   * `task({...})` accepts and checks them. Declare their types by merging into
   * `ExecutorTaskOptions` (see src/api/options.ts).
   */
  taskOptions?: Readonly<Record<string, TaskOptionKind>>;
}

/** A type's module, as a lazily loaded built-in type provides it. */
export interface ExecutorTypeModule extends ExecutorTypeOptions {
  factory: ExecutorFactory;
}

const factories = new Map<string, ExecutorFactory>();
const loaders = new Map<string, () => Promise<ExecutorTypeModule>>();
const loading = new Map<string, Promise<void>>();

/**
 * Registers an executor type under its `type` name (`local`, `docker`, or your own),
 * optionally with the schema of its options and its task options.
 *
 * @example
 * registerExecutorType("my_cloud", (name, raw) => new MyCloudExecutor(name, raw), {
 *   schema: { zone: { type: "string", default: "eu" } },
 *   taskOptions: { zone: "string" },
 * });
 */
export function registerExecutorType(
  type: string,
  factory: ExecutorFactory,
  options: ExecutorTypeOptions = {},
): void {
  if (options.schema) {
    if (loaders.has(type)) defineExecutorSchema(type, options.schema);
    else registerExecutorSchema(type, options.schema);
  }
  if (options.taskOptions) registerTaskOptionChecks(options.taskOptions);
  factories.set(type, factory);
}

/**
 * Registers a built-in executor type by a loader of its module: the module loads (and the
 * type registers) when {@link loadExecutorType} is first asked for it. Its task options are
 * declared now, since tasks name executors before any loads.
 * @internal For src/executors/builtin.ts.
 */
export function registerExecutorLoader(
  type: string,
  load: () => Promise<ExecutorTypeModule>,
  taskOptions?: Readonly<Record<string, TaskOptionKind>>,
): void {
  reserveExecutorType(type);
  loaders.set(type, load);
  if (taskOptions) registerTaskOptionChecks(taskOptions);
}

/**
 * Loads a type's module, if it is a built-in type not loaded yet; nothing for a type
 * registered already or unknown (the caller reports that).
 * @throws Error naming the type when its module cannot be loaded.
 */
export function loadExecutorType(type: string): Promise<void> {
  const load = loaders.get(type);
  if (!load || factories.has(type)) return Promise.resolve();
  let promise = loading.get(type);
  if (!promise) {
    promise = load().then(
      ({ factory, ...options }) => registerExecutorType(type, factory, options),
      (error: unknown) => {
        loading.delete(type);
        const message = error instanceof Error ? error.message : String(error);
        throw new Error(`cannot load executor type "${type}": ${message}`, { cause: error });
      },
    );
    loading.set(type, promise);
  }
  return promise;
}

/**
 * Whether an executor type is known: registered (with a factory or only a schema), or built
 * in and loadable.
 */
export function isExecutorType(type: string): boolean {
  return factories.has(type) || loaders.has(type) || executorSchema(type) !== undefined;
}

/** Whether a type is built in and not loaded yet (see {@link loadExecutorType}). */
export function executorTypePending(type: string): boolean {
  return loaders.has(type) && !factories.has(type);
}

/** The factory for an executor type, if registered (a built-in type once loaded). */
export function executorFactory(type: string): ExecutorFactory | undefined {
  return factories.get(type);
}

/** Known executor type names: built in (loaded or not) and registered. */
export function executorTypes(): string[] {
  return [...new Set([...loaders.keys(), ...factories.keys()])];
}

/**
 * A factory for a type whose executor does not exist yet: its options are checked like any
 * other's, and using it is one clear error.
 */
export function unavailableExecutor(type: string): ExecutorFactory {
  return (name) => {
    throw new Error(
      `[executors.${name}]: executor type ${type} is not available yet (its options are ` +
        "accepted so that configurations written for Python redun load)",
    );
  };
}
