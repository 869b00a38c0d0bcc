/**
 * Binds parameter defaults into task calls, so that a default is part of the call's cache key
 * like any argument: with `main(urlsFile = new File("urls.txt"))`, `main()` is the call
 * `main(File("urls.txt"))`, whose hash follows the file's content. Defaults are read from the
 * task's source (see src/api/source-defaults.ts); those it cannot evaluate are left to the
 * function (the task got a warning at definition).
 */
import {
  literalValue,
  isUndefinedLiteral,
  type DefaultDescriptor,
} from "../api/source-defaults.ts";
import { taskParameters, TaskExpression, type Task } from "../api/task.ts";
import { SchedulerExpression } from "../expressions/expression.ts";
import { Dir, File, type FileOptions } from "../files/file.ts";

const NO_DEFAULT = Symbol("no default");

/**
 * The arguments of a call with defaults bound: an argument that is missing or `undefined`
 * takes its parameter's default (JS semantics), so `add(1)` and `add(1, 10)` with `b = 10` are
 * one call. Trailing `undefined`s before any rest parameter are dropped, so `f(1)` and
 * `f(1, undefined)` are one call too. A rest parameter's arguments are left as they are.
 *
 * @returns `args` itself when nothing changes.
 */
export function bindDefaultArgs(task: Task, args: readonly unknown[]): readonly unknown[] {
  // Every parameter given: nothing to bind, and no need to read the task's source.
  if (args.length >= task.paramNames.length && !args.includes(undefined)) return args;
  const params = taskParameters(task);
  if (!params) return args;
  const restAt = params.findIndex((p) => p.info.rest);
  const fixed = restAt < 0 ? params.length : restAt;
  let out: unknown[] | undefined;
  for (let i = 0; i < fixed; i++) {
    if (i < args.length && args[i] !== undefined) continue;
    const value = defaultValue(params[i]!.default);
    if (value === NO_DEFAULT) continue;
    out ??= [...args];
    while (out.length < i) out.push(undefined);
    out[i] = value;
  }
  const result = out ?? args;
  let end = result.length;
  if (end <= fixed) while (end > 0 && result[end - 1] === undefined) end--;
  return end === result.length ? result : result.slice(0, end);
}

/** A call with defaults bound (the same expression when nothing changes). */
export function withDefaultArgs(expr: TaskExpression): TaskExpression {
  const args = bindDefaultArgs(expr.task, expr.args);
  return args === expr.args ? expr : new TaskExpression(expr.task, args, expr.callOptions);
}

/** A fresh value for a bindable default, or NO_DEFAULT. */
function defaultValue(d: DefaultDescriptor): unknown {
  try {
    switch (d.kind) {
      case "value":
        return isUndefinedLiteral(d.value) ? NO_DEFAULT : literalValue(d.value);
      case "file":
      case "dir": {
        const options = (d.options === undefined ? {} : literalValue(d.options)) as FileOptions;
        return d.kind === "file" ? new File(d.path, options) : new Dir(d.path, options);
      }
      case "context":
        return new SchedulerExpression("context", [d.path, literalValue(d.default)]);
      default:
        return NO_DEFAULT;
    }
  } catch {
    // E.g. `new File("")`: the function's own default fails the same way, in its own words.
    return NO_DEFAULT;
  }
}
