/**
 * The scheduler helpers (`cond`, `seq`, `catch_`, `map_`, `const_`, `getContext`, …): each
 * is evaluated with a rule of its own, on top of the execution's graph reduction.
 */
import type { CallTaskOptions } from "../api/options.ts";
import type { JobContext } from "../api/job-context.ts";
import { isTask, TaskExpression } from "../api/task.ts";
import {
  describeValue,
  Expression,
  SchedulerExpression,
  ValueExpression,
} from "../expressions/expression.ts";
import { Delayed } from "../expressions/helpers.ts";
import { catchTask } from "./internal-tasks.ts";
import type { Job } from "./job.ts";

/** Where an expression is being evaluated. */
export interface Scope {
  /** The job whose result is being reduced (undefined at the root). */
  job: Job | undefined;
  /** Options exported to calls made here. */
  exportOptions: CallTaskOptions;
  /** The context calls made here inherit. */
  context: JobContext;
  /** Whether calls made here are recorded. */
  prov: boolean;
  /** Collects the call hashes of task calls whose results flow into the current argument. */
  upstream?: string[];
}

/** What evaluating a helper needs from the execution. */
export interface Reducer {
  evaluate(value: unknown, scope: Scope): Promise<unknown> | unknown;
  evaluateCall(expr: TaskExpression, scope: Scope): Promise<unknown>;
  contextValue(expr: SchedulerExpression, scope: Scope, context: JobContext): Promise<unknown>;
}

/** Evaluates a scheduler helper expression. */
export async function evaluateHelper(
  reducer: Reducer,
  expr: SchedulerExpression,
  scope: Scope,
): Promise<unknown> {
  const a = expr.args;
  const evaluate = (value: unknown) => reducer.evaluate(value, scope);
  switch (expr.op) {
    case "cond": {
      // pred1, then1, pred2, then2, ..., otherwise: only the chosen branch is evaluated.
      for (let i = 0; i + 1 < a.length; i += 2) {
        if (await evaluate(a[i])) return evaluate(a[i + 1]);
      }
      return evaluate(a[a.length - 1]);
    }
    case "seq": {
      const results: unknown[] = [];
      for (const item of a[0] as unknown[]) results.push(await evaluate(item));
      return results;
    }
    case "catch":
      // A catch_ is a job of its own, so its recovery is recorded and cached like a call.
      return reducer.evaluateCall(
        new TaskExpression(catchTask, [new Delayed(expr)], {
          options: { checkValid: "shallow" },
        }),
        scope,
      );
    case "throw":
      throw await evaluate(a[0]);
    case "map": {
      const fn = await evaluate(a[0]);
      if (!isTask(fn)) throw new TypeError(`map_(): expected a task, got ${describeValue(fn)}`);
      const items = (await evaluate(a[1])) as unknown[];
      if (!Array.isArray(items)) {
        throw new TypeError(
          `map_(${fn.fullname}, ...): expected a list, got ${describeValue(items)}`,
        );
      }
      return evaluate(items.map((item) => fn(item)));
    }
    case "flatten":
      return ((await evaluate(a[0])) as unknown[][]).flat(1);
    case "zip": {
      const lists = (await evaluate(a)) as unknown[][];
      const length = Math.min(...lists.map((l) => l.length));
      return Array.from({ length }, (_, i) => lists.map((l) => l[i]));
    }
    case "const": {
      // const_(value, expr): both are evaluated; the value is the result.
      const [value] = await Promise.all([evaluate(a[0]), evaluate(a[1])]);
      return value;
    }
    case "context":
      return reducer.contextValue(expr, scope, scope.context);
    case "delay":
      return new Delayed(a[0] instanceof Expression ? a[0] : new ValueExpression(a[0]));
    case "force": {
      const delayed = await evaluate(a[0]);
      return delayed instanceof Delayed ? evaluate(delayed.expr) : delayed;
    }
    default:
      throw new Error(`Unknown scheduler expression "${expr.op}"`);
  }
}
