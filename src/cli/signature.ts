/**
 * Task signatures for the command line.
 *
 * By the time the CLI runs a task, its module has been imported with the types stripped, so
 * the function itself only tells us parameter names. To turn `--x 3` into the number `3` the
 * file that defined the task is read with the TypeScript parser (src/api/source-analysis.ts:
 * syntax only, cached on disk by the file's content, so an unchanged file is not parsed again)
 * and each parameter's annotation, or failing that its default value, maps to a
 * {@link ParamType}.
 */
import { clearSourceAnalyses } from "../api/source-analysis.ts";
import type { ParamInfo, ParamType } from "../api/source-params.ts";

export { readTaskSignature, type SignatureLookup } from "../api/source-analysis.ts";
export type { ParamInfo, ParamType } from "../api/source-params.ts";

/** Forgets parsed files held in memory (for tests, or long-lived processes whose files change). */
export function clearSignatureCache(): void {
  clearSourceAnalyses();
}

/**
 * Parameters for a task whose signature could not be read: every one is `unknown` and
 * optional, so values are read as JSON-or-string and nothing is wrongly demanded.
 *
 * @param names - the parameter names, e.g. from `task.paramNames`.
 */
export function untypedParams(names: readonly string[]): ParamInfo[] {
  return names.map((name) => ({ name, type: { kind: "unknown" }, optional: true, rest: false }));
}

/** A short name for a type, used in help text and error messages (`number`, `string[]`). */
export function describeType(type: ParamType): string {
  switch (type.kind) {
    case "file":
      return "File";
    case "dir":
      return "Dir";
    case "array": {
      const element = describeType(type.element);
      return type.element.kind === "choice" ? `(${element})[]` : `${element}[]`;
    }
    case "choice":
      return type.values.map((v) => JSON.stringify(v)).join(" | ");
    case "json":
      return "JSON";
    default:
      return type.kind;
  }
}
