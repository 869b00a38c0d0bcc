/**
 * Importing the modules that define the tasks named in wire-format data, so that a worker
 * (or the scheduler, for results) can decode them.
 */
import { importModule } from "../api/workflow-module.ts";
import type { Wire } from "../values/serialize.ts";

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
  // Most results are plain data: nothing to look for, nothing to allocate.
  if ((wire === null || typeof wire !== "object") && extra.length === 0) return;
  const modules = taskModules(wire);
  for (const m of extra) if (m) modules.add(m);
  if (modules.size === 1) await importModule(modules.values().next().value!);
  else if (modules.size > 1) await Promise.all([...modules].map(importModule));
}
