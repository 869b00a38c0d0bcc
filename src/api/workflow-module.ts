/**
 * Importing a workflow module once per process, registering the error classes it exports
 * (used by the CLI, the executors' workers and the script task, which loads filesystem modules).
 */
import { pathToFileURL } from "node:url";
import { registerErrorClass } from "../values/serialize.ts";

const imported = new Map<string, Promise<unknown>>();

/**
 * Imports a workflow module once per process. The error classes it exports are registered,
 * so an error of such a class thrown in one thread or process is still an instance of it in
 * another (a `catch_` handler running in a worker can test `error instanceof MyError`).
 */
export function importModule(file: string): Promise<unknown> {
  let promise = imported.get(file);
  if (!promise) {
    promise = import(pathToFileURL(file).href).then((module: Record<string, unknown>) => {
      registerExportedErrorClasses(module);
      return module;
    });
    imported.set(file, promise);
  }
  return promise;
}

/** Registers every subclass of `Error` among a module's exports. */
export function registerExportedErrorClasses(module: Record<string, unknown>): void {
  for (const value of Object.values(module)) {
    if (typeof value === "function" && value.prototype instanceof Error) {
      registerErrorClass(value as new () => Error);
    }
  }
}
