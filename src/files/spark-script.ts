/**
 * Spark code from a workflow: `sparkScript(pythonSource, { inputs, outputs, ...options })`
 * calls the built-in task `redun.spark_script`, which only an `aws_glue` executor runs: it
 * sends the PySpark source to a Glue job run, whose launcher runs it in the driver with
 * `spark` (the SparkSession), `sc`, `glueContext`, `inputs` and `outputs` in scope. The
 * result is the JSON data the source assigns to `result`, or else the `outputs`.
 *
 * Inputs and outputs are S3 paths (strings, or `File`/`Dir` objects, at any depth in arrays
 * and objects); the source sees them as path strings. A `File` input is hashed by content,
 * so the call is cached by the source and its inputs, like a script task. On any other
 * executor the task is a clear error.
 */
import type { CallTaskOptions } from "../api/options.ts";
import { task, type TaskExpression } from "../api/task.ts";
import { Dir, File } from "./file.ts";
import { RedunError } from "../values/errors.ts";
import { registerErrorClass } from "../values/serialize.ts";

/** An exception raised by a `sparkScript()` source (its message and Python traceback). */
export class SparkScriptError extends RedunError {
  override name = "SparkScriptError";
  override get code() {
    return "REDUN_SPARK_SCRIPT" as const;
  }
}
registerErrorClass(SparkScriptError);

/** The fullname of the built-in task behind {@link sparkScript}. */
export const SPARK_SCRIPT_TASK = "redun.spark_script";

/**
 * The built-in task behind {@link sparkScript}. Its body runs only where no Glue executor
 * intercepts it, so it is the "wrong executor" error.
 */
export const sparkScriptTask = task(
  { name: "spark_script", namespace: "redun", version: "1" },
  async function sparkScriptBody(_source: string, _inputs: unknown, _outputs: unknown) {
    throw new SparkScriptError(
      "sparkScript() runs PySpark code only on an executor of type aws_glue; " +
        'give it one with { executor: "NAME" } (an [executors.NAME] section with type = aws_glue)',
    );
  },
);

/** Options of {@link sparkScript}: what the source reads and writes, and task options. */
export interface SparkScriptOptions<O = undefined> extends CallTaskOptions {
  /** S3 paths (or `File`/`Dir`) the source reads; bound as `inputs` (as path strings). */
  inputs?: unknown;
  /** S3 paths (or `File`/`Dir`) the source writes; bound as `outputs`, and the default result. */
  outputs?: O;
}

/**
 * Runs PySpark code in an AWS Glue job as a task (see the module documentation).
 *
 * @example
 * const counts = sparkScript(
 *   `
 * df = spark.read.text(inputs["lines"])
 * df.write.mode("overwrite").text(outputs)
 * result = df.count()
 * `,
 *   {
 *     inputs: { lines: new File("s3://bucket/in.txt") },
 *     outputs: "s3://bucket/out/",
 *     executor: "glue",
 *   },
 * ); // an expression of the number of lines
 *
 * @param source - Python source, run in the Glue driver.
 * @param options - `inputs`, `outputs`, and task options for the call (`executor`,
 *   `workers`, `workerType`, `timeout`, …).
 */
export function sparkScript<R = unknown, O = undefined>(
  source: string,
  options: SparkScriptOptions<O> = {},
): TaskExpression<R> {
  if (typeof source !== "string" || !source.trim()) {
    throw new TypeError("sparkScript(): the source must be a non-empty string of Python");
  }
  const { inputs = null, outputs = null, ...taskOptions } = options;
  const t =
    Object.keys(taskOptions).length > 0 ? sparkScriptTask.options(taskOptions) : sparkScriptTask;
  return t(dedent(source), inputs, outputs) as unknown as TaskExpression<R>;
}

/** Removes the common indentation of a source's lines (Python cares). */
export function dedent(source: string): string {
  const lines = source
    .replace(/^\s*\n/, "")
    .replace(/\s+$/, "")
    .split("\n");
  const indents = lines.filter((l) => l.trim()).map((l) => /^[ \t]*/.exec(l)![0].length);
  const cut = indents.length > 0 ? Math.min(...indents) : 0;
  return lines.map((l) => l.slice(cut)).join("\n") + "\n";
}

/**
 * Inputs or outputs as the source sees them: every `File`/`Dir` as its path (S3 only).
 * @throws SparkScriptError naming a local path.
 */
export function sparkPaths(value: unknown, where: string): unknown {
  if (value instanceof File || value instanceof Dir) {
    if (!value.path.startsWith("s3://")) {
      throw new SparkScriptError(
        `sparkScript(): ${where} ${value.path} is not an S3 path; Spark on AWS Glue reads and writes S3`,
      );
    }
    return value.path;
  }
  if (Array.isArray(value)) return value.map((v, i) => sparkPaths(v, `${where}[${i}]`));
  if (value && typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, sparkPaths(v, `${where}.${k}`)]),
    );
  }
  return value;
}
