/**
 * Parsing an executor's options (raw `redun.ini` strings or values from code) against the
 * schema its type declares, with the defaults of the configuration document.
 */
import { warn } from "../api/warnings.ts";
import { executorSchema } from "../config/executor-options.ts";
import { parseOptions } from "../config/options.ts";

/**
 * The typed options of executor `name` of type `type`. Unknown keys are reported as
 * `config` warnings; a missing required option or a malformed value is a ConfigError.
 */
export function parseExecutorOptions(
  type: string,
  name: string,
  raw: Readonly<Record<string, unknown>>,
): Record<string, unknown> {
  const schema = executorSchema(type);
  if (!schema) return { ...raw };
  const { values, warnings } = parseOptions(schema, raw, `[executors.${name}]`);
  for (const w of warnings) warn("config", w);
  return values;
}
