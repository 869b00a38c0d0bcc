/**
 * Loads every module that registers a built-in value type or decoder (File, Dir and
 * staging pairs, script outputs, expressions, scheduler helpers, tasks), so that the
 * commands that read recorded values (`log`, `tag`, `export`, `import`, `push`, `pull`)
 * know them all, without the scheduler or any executor. Loaded when such a command runs,
 * so other commands (and `--help`) pay nothing.
 */
import type { Backend } from "../backend/backend.ts";
import { withBackend, type OpenRepositoryOptions } from "./repositories.ts";
import type { GlobalOptions } from "./global.ts";

/** Imports the modules that register the built-in value types (once; later calls are free). */
export async function loadValueTypes(): Promise<void> {
  await Promise.all([
    import("../api/task.ts"),
    import("../expressions/expression.ts"),
    import("../expressions/helpers.ts"),
    import("../files/file.ts"),
    import("../files/script.ts"),
  ]);
}

/** {@link withBackend}, with the built-in value types loaded first. */
export async function withBackendAndTypes<T>(
  global: GlobalOptions,
  fn: (backend: Backend) => Promise<T>,
  options: OpenRepositoryOptions = {},
): Promise<T> {
  await loadValueTypes();
  return withBackend(global, fn, options);
}
