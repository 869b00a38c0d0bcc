/** Configuration errors: one clear message naming the file, section and key. */

/** A problem in a configuration file or directory. The message is meant for the user. */
export class ConfigError extends Error {
  override name = "ConfigError";
}
