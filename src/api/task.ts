/**
 * Tasks: functions whose calls become lazy expressions, and that expression, `TaskExpression`
 * (kept here because a task and its call name each other's types).
 */
import { describeArg, Expression, type SimpleExpression } from "../expressions/expression.ts";
import { HASH, hashParts, hashValue } from "../values/hash.ts";
import { ENCODE, registerDecoder, type Wire } from "../values/serialize.ts";
import { mergeContext } from "./job-context.ts";
import { validateTaskOptions } from "./option-validation.ts";
import type { CallOptions, CallTaskOptions, TaskOptions } from "./options.ts";
import { analyzeTask, snapshotFile, type TaskAnalysis } from "./source-analysis.ts";
import type { TaskParam } from "./source-params.ts";
import {
  callerPosition,
  hasComplexDefault,
  parameterNames,
  type SourcePosition,
} from "./source.ts";
import type { LazyArgs, Resolved } from "./types.ts";
import { warn } from "./warnings.ts";

/** Any function a task can wrap. */
export type TaskFunction = (...args: any[]) => unknown;

/**
 * A task: call it to get a lazy {@link TaskExpression}; the scheduler runs the function.
 *
 * @typeParam A - the function's parameter types (each argument may also be an expression).
 * @typeParam R - the function's result with promises awaited and expressions unwrapped.
 */
export interface Task<A extends readonly unknown[] = any[], R = unknown> {
  (...args: LazyArgs<A>): TaskExpression<R>;
  /** The task's name (without namespace). */
  readonly name: string;
  /** Dot-separated namespace, or `""`. */
  readonly namespace: string;
  /** `namespace.name`, or `name` when there is no namespace. */
  readonly fullname: string;
  /** The wrapped function. */
  readonly func: TaskFunction;
  /** Options given at definition. */
  readonly taskOptions: Readonly<TaskOptions>;
  /**
   * The normalized source hashed into the task hash (unless `version` is set): the tokens of
   * the function as written in its file, types included, comments and formatting left out.
   */
  readonly source: string;
  /** Hash of fullname, source (or version) and `hashIncludes` (in any order). */
  readonly hash: string;
  /** The module file that defined the task (workers import it to find the task). */
  readonly modulePath: string | undefined;
  /** Parameter names, in order. */
  readonly paramNames: readonly string[];
  /** The same task with options overridden for the calls made through the result. */
  options(options: CallTaskOptions): Task<A, R>;
  /** Like `options`, but the options also apply to every call beneath these calls. */
  exportOptions(options: CallTaskOptions): Task<A, R>;
  /**
   * The same task with its calls' context extended (merged deeply); every call beneath
   * inherits it. Tasks read the context with `getContext("a.b", default)`.
   *
   * @example
   * main.updateContext({ align: { threads: 8 } })(samples)
   */
  updateContext(context: Record<string, unknown>): Task<A, R>;
}

/** Element type of an array/tuple result, for `nout` destructuring. */
type ElementOf<T> = T extends readonly (infer E)[] ? E : unknown;

/** A call of a task: `add(1, 2)`. */
export class TaskExpression<T = unknown> extends Expression<T> {
  constructor(
    readonly task: Task<any, any>,
    readonly args: readonly unknown[],
    readonly callOptions: CallOptions = {},
  ) {
    super();
  }

  protected computeHash(): string {
    return hashParts([
      "TaskExpression",
      this.task.fullname,
      this.task.hash,
      // Each argument is hashed on its own, so an unsupported one is named as the scheduler names it.
      hashParts(
        this.args.map((arg, i) =>
          hashValue(
            arg,
            `argument "${this.task.paramNames[i] ?? i}" of task "${this.task.fullname}"`,
          ),
        ),
      ),
      hashValue(this.callOptions, `options of a call to "${this.task.fullname}"`),
    ]);
  }

  /**
   * Destructures a result of fixed length (task option `nout`):
   * `const [a, b] = pair(x)`.
   */
  *[Symbol.iterator](): Iterator<SimpleExpression<ElementOf<T>>> {
    const nout = this.callOptions.options?.nout ?? this.task.taskOptions.nout;
    if (nout === undefined) {
      throw new TypeError(
        `Cannot iterate over ${this.describe()}: give task "${this.task.fullname}" the option ` +
          "`nout` (its result's length) to destructure its result",
      );
    }
    for (let i = 0; i < nout; i++) yield this.get(i) as SimpleExpression<ElementOf<T>>;
  }

  describe(): string {
    return `${this.task.fullname}(${this.args.map(describeArg).join(", ")})`;
  }

  [ENCODE](encode: (value: unknown, key: string | number) => Wire) {
    return {
      tag: "call",
      data: {
        task: encode(this.task, "task"),
        args: encode(this.args, "args"),
        options: encode(this.callOptions, "options"),
      },
    };
  }
}

/** Internal state of a task, shared by its option-overriding variants. */
class TaskCore {
  #hash: string | undefined;
  #analysis: TaskAnalysis | undefined;
  /** Where the task was defined, with the module's text as it was then. */
  readonly #site: Partial<SourcePosition> & { text?: string };
  readonly paramNames: readonly string[];
  /** The module file that defined the task (workers import it to find the task). */
  readonly modulePath: string | undefined;

  constructor(
    readonly name: string,
    readonly namespace: string,
    readonly func: TaskFunction,
    readonly taskOptions: Readonly<TaskOptions>,
    position: SourcePosition | undefined,
  ) {
    this.paramNames = parameterNames(func);
    this.modulePath = position?.file;
    this.#site = position ? { ...position, text: snapshotFile(position.file) } : {};
  }

  get fullname(): string {
    return this.namespace ? `${this.namespace}.${this.name}` : this.name;
  }

  /** The function read from its file (parsed on first use, or read from the disk cache). */
  get analysis(): TaskAnalysis {
    return (this.#analysis ??= analyzeTask(this.func, this.#site, {
      functionName: this.func.name,
      taskName: this.name,
    }));
  }

  get source(): string {
    return this.analysis.source;
  }

  get hash(): string {
    if (this.#hash === undefined) {
      const { version, hashIncludes } = this.taskOptions;
      const where = `hashIncludes of task "${this.fullname}"`;
      this.#hash = hashParts([
        "Task",
        this.fullname,
        version !== undefined ? `version:${version}` : `source:${this.source}`,
        // Order-insensitive, as in Python redun: the element hashes are sorted.
        hashIncludes ? hashParts(hashIncludes.map((v) => hashValue(v, where)).sort()) : "",
      ]);
    }
    return this.#hash;
  }

  /**
   * Warns about parameter defaults the scheduler cannot bind (a module variable, a call):
   * they are not in the cache key. Done at definition only for functions whose compiled text
   * shows such a default, so other tasks are analysed lazily, when their hash is first needed.
   */
  checkDefaults(): void {
    const { version, hashIncludes } = this.taskOptions;
    // With `version` or `hashIncludes` the author has taken the task's hash in hand.
    if (version !== undefined || hashIncludes !== undefined) return;
    if (!hasComplexDefault(this.func)) return;
    const fix =
      "pass the argument explicitly, or use the task option hashIncludes (or version) " +
      "to put what it depends on into the task hash";
    const params = this.analysis.params;
    if (!params) {
      warn(
        "defaults",
        `task "${this.fullname}": redun could not read its parameter defaults, so they are ` +
          `not part of the cache key; ${fix}`,
      );
      return;
    }
    for (const p of params) {
      if (p.default.kind !== "opaque") continue;
      warn(
        "defaults",
        `task "${this.fullname}": the default value of parameter "${p.info.name}" ` +
          `(${oneLine(p.default.text)}) is not part of the cache key, so a change in what it ` +
          `reads will not rerun the task; ${fix}`,
      );
    }
  }
}

function oneLine(text: string): string {
  const flat = text.replace(/\s+/g, " ");
  return flat.length > 60 ? flat.slice(0, 57) + "..." : flat;
}

const CORE = Symbol("redun.taskCore");
const NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;
const NAMESPACE_RE = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/;

const registry = new Map<string, Task>();

function makeCallable(core: TaskCore, callOptions: CallOptions): Task {
  const callable = function (...args: unknown[]) {
    return new TaskExpression(callable as unknown as Task, args, callOptions);
  } as unknown as Task & { [CORE]: TaskCore; [key: symbol]: unknown };
  Object.defineProperty(callable, "name", { value: core.name });
  Object.defineProperty(callable, CORE, { value: core });
  Object.defineProperty(callable, CALL_OPTIONS, { value: callOptions });
  Object.setPrototypeOf(callable, TaskPrototype);
  return callable;
}

const CALL_OPTIONS = Symbol("redun.callOptions");

/** Methods and getters shared by every task callable. */
const TaskPrototype: object = Object.create(Function.prototype, {
  namespace: {
    get(this: any) {
      return this[CORE].namespace;
    },
  },
  fullname: {
    get(this: any) {
      return this[CORE].fullname;
    },
  },
  func: {
    get(this: any) {
      return this[CORE].func;
    },
  },
  taskOptions: {
    get(this: any) {
      return this[CORE].taskOptions;
    },
  },
  source: {
    get(this: any) {
      return this[CORE].source;
    },
  },
  hash: {
    get(this: any) {
      return this[CORE].hash;
    },
  },
  modulePath: {
    get(this: any) {
      return this[CORE].modulePath;
    },
  },
  paramNames: {
    get(this: any) {
      return this[CORE].paramNames;
    },
  },
  [HASH]: {
    // A task passed as a value is another value when .options() / .exportOptions() changed it.
    get(this: any) {
      const callOptions: CallOptions = this[CALL_OPTIONS];
      if (!callOptions.options && !callOptions.exportOptions) return this[CORE].hash;
      return hashParts(["TaskValue", this[CORE].hash, hashValue(callOptions)]);
    },
  },
  options: {
    value(this: any, options: CallTaskOptions) {
      validateTaskOptions(options, `${this[CORE].fullname}.options()`, true);
      const current: CallOptions = this[CALL_OPTIONS];
      return makeCallable(this[CORE], { ...current, options: { ...current.options, ...options } });
    },
  },
  exportOptions: {
    value(this: any, options: CallTaskOptions) {
      validateTaskOptions(options, `${this[CORE].fullname}.exportOptions()`, true);
      const current: CallOptions = this[CALL_OPTIONS];
      return makeCallable(this[CORE], {
        ...current,
        exportOptions: { ...current.exportOptions, ...options },
      });
    },
  },
  updateContext: {
    value(this: any, context: Record<string, unknown>) {
      if (context === null || typeof context !== "object" || Array.isArray(context)) {
        throw new TypeError(`${this[CORE].fullname}.updateContext(): expected an object`);
      }
      const current: CallOptions = this[CALL_OPTIONS];
      return makeCallable(this[CORE], {
        ...current,
        context: mergeContext(current.context ?? {}, context),
      });
    },
  },
  [ENCODE]: {
    value(this: any, encode: (value: unknown, key: string) => Wire) {
      const callOptions: CallOptions = this[CALL_OPTIONS];
      const data: Record<string, Wire> = {
        name: this[CORE].fullname,
        module: this[CORE].modulePath ?? null,
      };
      // A task passed as a value keeps what .options() / .exportOptions() set on it.
      if (callOptions.options || callOptions.exportOptions)
        data.options = encode(callOptions, "options");
      return { tag: "task", data };
    },
  },
  toString: {
    value(this: any) {
      return `Task(${this[CORE].fullname})`;
    },
  },
});

/** Whether a value is a task. */
export function isTask(value: unknown): value is Task {
  return typeof value === "function" && CORE in value;
}

/** The call options attached to a task callable by `.options()` / `.exportOptions()`. */
export function callOptionsOf(t: Task): CallOptions {
  return (t as any)[CALL_OPTIONS] ?? {};
}

function defineTask(options: TaskOptions, fn: TaskFunction, namespaceDefault?: string): Task {
  if (typeof fn !== "function") {
    throw new TypeError("task(): expected a function (task(fn) or task(options, fn))");
  }
  validateTaskOptions(options, `task "${options.name ?? fn.name}"`);
  const name = options.name ?? fn.name;
  if (!name) {
    throw new TypeError(
      "task(): the task has no name: use a named function (`task(function add(a, b) {...})`) " +
        "or give the option `name`",
    );
  }
  if (!NAME_RE.test(name)) {
    throw new TypeError(`task(): invalid task name "${name}": use letters, digits and _`);
  }
  const namespace = options.namespace ?? namespaceDefault ?? "";
  if (namespace && !NAMESPACE_RE.test(namespace)) {
    throw new TypeError(
      `task(): invalid namespace "${namespace}" for task "${name}": use dot-separated words`,
    );
  }
  const core = new TaskCore(name, namespace, fn, Object.freeze({ ...options }), callerPosition());
  const existing = registry.get(core.fullname);
  if (existing && existing.source !== core.source) {
    throw new Error(
      `task(): two different tasks are named "${core.fullname}"` +
        (existing.modulePath ? ` (the first is in ${existing.modulePath})` : "") +
        "; give one a different name or namespace",
    );
  }
  if (!namespace) {
    warn(
      "namespace",
      `task "${name}" has no namespace; give it one with namespace("...") or the option namespace`,
    );
  }
  core.checkDefaults();
  const t = makeCallable(core, {});
  registry.set(core.fullname, t);
  return t;
}

/**
 * Defines a task.
 *
 * @example
 * export const add = task(function add(a: number, b: number) { return a + b; });
 * export const main = task({ version: "1" }, async function main(x: number) {
 *   return add(add(x, 1), 2); // an expression: the scheduler evaluates it
 * });
 */
export function task<F extends TaskFunction>(fn: F): Task<Parameters<F>, Resolved<ReturnType<F>>>;
export function task<F extends TaskFunction>(
  options: TaskOptions,
  fn: F,
): Task<Parameters<F>, Resolved<ReturnType<F>>>;
export function task(optionsOrFn: TaskOptions | TaskFunction, maybeFn?: TaskFunction): Task {
  return typeof optionsOrFn === "function"
    ? defineTask({}, optionsOrFn)
    : defineTask(optionsOrFn, maybeFn!);
}

/** The `task` function returned by {@link namespace}. */
export type NamespacedTask = typeof task;

/**
 * A `task` function whose tasks get the given namespace.
 *
 * @example
 * const { task } = namespace("acme");
 */
export function namespace(name: string): { task: NamespacedTask } {
  if (!NAMESPACE_RE.test(name)) throw new TypeError(`namespace(): invalid namespace "${name}"`);
  const namespacedTask = ((optionsOrFn: TaskOptions | TaskFunction, maybeFn?: TaskFunction) =>
    typeof optionsOrFn === "function"
      ? defineTask({}, optionsOrFn, name)
      : defineTask(optionsOrFn, maybeFn!, name)) as NamespacedTask;
  return { task: namespacedTask };
}

/** The task registered under a full name in this process, if any. */
export function getTask(fullname: string): Task | undefined {
  return registry.get(fullname);
}

/**
 * Finds a task by full name, or by short name when that is unambiguous.
 * @throws Error listing the candidates when the short name is ambiguous.
 */
export function findTask(name: string): Task | undefined {
  const exact = registry.get(name);
  if (exact) return exact;
  const matches = [...registry.values()].filter((t) => t.name === name);
  if (matches.length > 1) {
    throw new Error(
      `task name "${name}" is ambiguous: ${matches.map((t) => t.fullname).join(", ")}`,
    );
  }
  return matches[0];
}

/**
 * A task's parameters read from its source, with their defaults (see `bindDefaultArgs`);
 * undefined when its source could not be parsed.
 */
export function taskParameters(t: Task): readonly TaskParam[] | undefined {
  return ((t as any)[CORE] as TaskCore | undefined)?.analysis.params;
}

/** Every task registered in this process. */
export function allTasks(): Task[] {
  return [...registry.values()];
}

registerDecoder("task", (data: { name: string; module: string | null; options?: Wire }, decode) => {
  const t = registry.get(data.name);
  if (!t) {
    throw new Error(
      `task "${data.name}" is not defined in this process` +
        (data.module ? ` (it is defined in ${data.module})` : ""),
    );
  }
  return data.options === undefined
    ? t
    : makeCallable((t as any)[CORE], decode(data.options) as CallOptions);
});

registerDecoder("call", (data: any, decode) => {
  const task = decode(data.task) as Task;
  return new TaskExpression(
    task,
    decode(data.args) as unknown[],
    decode(data.options) as CallOptions,
  );
});
