/**
 * A call's effective options and where its result may come from (its cache scope), as the
 * scheduler works them out before the call's job runs.
 */
import type { CacheScope, CallTaskOptions, TaskOptions } from "../api/options.ts";
import type { TaskExpression } from "../api/task.ts";
import { Expression } from "../expressions/expression.ts";
import type { Scope } from "./helper-evaluation.ts";

/**
 * The options of a call, lowest to highest precedence: the task's, those exported by
 * ancestors, the call's own, and (for the root call) the run's (`rootOptions`). An option
 * given as an expression is evaluated by `evaluate` (the scheduler reads `getContext(...)`
 * in the call's own context): only then is the answer a promise, since each await
 * suspends the call, which a fan-out of tiny tasks pays for per job.
 */
export function callOptions(
  expr: TaskExpression,
  scope: Scope,
  rootOptions: CallTaskOptions,
  evaluate: (value: Expression) => unknown,
): TaskOptions | Promise<TaskOptions> {
  const options: Record<string, unknown> = {
    ...expr.task.taskOptions,
    ...scope.exportOptions,
    ...expr.callOptions.exportOptions,
    ...expr.callOptions.options,
    ...(scope.job === undefined ? rootOptions : {}),
  };
  for (const key in options) {
    if (options[key] instanceof Expression) return evaluateOptions(options, evaluate);
  }
  return options as TaskOptions;
}

/** Options given as expressions, evaluated in place. */
async function evaluateOptions(
  options: Record<string, unknown>,
  evaluate: (value: Expression) => unknown,
): Promise<TaskOptions> {
  for (const [key, value] of Object.entries(options)) {
    if (value instanceof Expression) options[key] = await evaluate(value);
  }
  return options as TaskOptions;
}

/**
 * Where a call's result may come from: `backend` (recorded runs), `cse` (this execution
 * only: `cache: false`, a run without cache or a call without provenance) or `none`.
 */
export function cacheScopeOf(options: TaskOptions, prov: boolean, runCache: boolean): CacheScope {
  let scope: CacheScope = options.cacheScope ?? (options.cache === false ? "cse" : "backend");
  if (options.cache === false && scope === "backend") scope = "cse";
  if ((!runCache || !prov) && scope === "backend") scope = "cse";
  return scope;
}
