/**
 * Importing the modules that define the tasks named in wire-format data, so that a worker
 * (or the scheduler, for results) can decode them.
 */
import { pathToFileURL } from "node:url";
import { registerErrorClass, type Wire } from "../values/serialize.ts";

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

/** The module files of every task referenced in wire data. */
export function taskModules(wire: Wire, into = new Set<string>()): Set<string> {
  if (wire === null || typeof wire !== "object") return into;
  if (Array.isArray(wire)) {
    for (const item of wire) taskModules(item, into);
    return into;
  }
  if (wire.$t === "task") {
    const module = (wire.v as { module?: string | null } | undefined)?.module;
    if (module) into.add(module);
    return into;
  }
  for (const key of Object.keys(wire)) taskModules(wire[key]!, into);
  return into;
}

/** Imports every module that wire data needs before it is decoded. */
export async function importTaskModules(
  wire: Wire,
  extra: (string | undefined)[] = [],
): Promise<void> {
  const modules = taskModules(wire);
  for (const m of extra) if (m) modules.add(m);
  await Promise.all([...modules].map(importModule));
}
