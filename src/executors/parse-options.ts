/**
 * Parsing an executor's options (raw `redun.ini` strings or values from code) against the
 * schema its type declares, with the defaults of the configuration document.
 */
import { warn } from "../api/warnings.ts";
import { executorSchema, inheritedOptions } from "../config/executor-options.ts";
import { parseOptions, type OptionSchema } from "../config/option-schema.ts";

/**
 * The typed options of executor `name` of type `type`, against `schema` (default: the
 * schema registered for the type). Unknown keys are reported as `config` warnings (except
 * `[DEFAULT]` keys the type does not declare); a missing required option or a malformed
 * value is a ConfigError.
 */
export function parseExecutorOptions(
  type: string,
  name: string,
  raw: Readonly<Record<string, unknown>>,
  schema: OptionSchema | undefined = executorSchema(type),
): Record<string, unknown> {
  const inherited = inheritedOptions(raw);
  if (!schema) {
    return Object.fromEntries(Object.entries(raw).filter(([key]) => !inherited?.has(key)));
  }
  const { values, warnings } = parseOptions(schema, raw, `[executors.${name}]`, { inherited });
  for (const w of warnings) warn("config", w);
  return values;
}
