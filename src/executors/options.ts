/**
 * Parsing an executor's options (raw `redun.ini` strings or API values) against the schema
 * its type declares, with the defaults of the configuration document.
 */

type Raw = Readonly<Record<string, unknown>>;

// Replaced by the declared schemas in src/config/executor-options.ts (same function name).
export function parseExecutorOptions(type: string, name: string, raw: Raw): Record<string, unknown> {
  const where = `[executors.${name}]`;
  if (type === "local") {
    const mode = String(raw.mode ?? "thread");
    if (!["thread", "process", "inline"].includes(mode)) {
      throw new Error(`${where} mode: expected thread, process or inline, got "${mode}"`);
    }
    const maxWorkers = Number(raw.max_workers ?? 20);
    if (!Number.isInteger(maxWorkers) || maxWorkers < 1) {
      throw new Error(`${where} max_workers: expected a positive integer, got "${raw.max_workers}"`);
    }
    return { mode, max_workers: maxWorkers, start_method: String(raw.start_method ?? "fork") };
  }
  if (type === "alias") {
    if (!raw.target) throw new Error(`${where} target: required for type = alias`);
    return { target: String(raw.target) };
  }
  return { ...raw };
}
