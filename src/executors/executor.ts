/**
 * The executor contract and the registry of executor types. The scheduler knows executors
 * only through this module; each executor type registers itself by its `type` name.
 */
import type { Task } from "../api/task.ts";

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

const factories = new Map<string, ExecutorFactory>();

/** Registers an executor type under its `type` name (`local`, `docker`, or your own). */
export function registerExecutorType(type: string, factory: ExecutorFactory): void {
  factories.set(type, factory);
}

/** The factory for an executor type, if registered. */
export function executorFactory(type: string): ExecutorFactory | undefined {
  return factories.get(type);
}

/** Registered executor type names. */
export function executorTypes(): string[] {
  return [...factories.keys()];
}
