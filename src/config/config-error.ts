/** Configuration errors: one clear message naming the file, section and key. */
import { RedunError } from "../values/errors.ts";
import { registerErrorClass } from "../values/serialize.ts";

/** A problem in a configuration file or directory. The message is meant for the user. */
export class ConfigError extends RedunError {
  override name = "ConfigError";
  override get code() {
    return "REDUN_CONFIG" as const;
  }
}
registerErrorClass(ConfigError);
