/**
 * From the `[backend]` section of `redun.ini` to backend options, in one place, so that
 * the scheduler and the `redun db`, `log`, `export`, … commands open the database the same
 * way (credentials from the configured environment variables or AWS secret, value store,
 * size limits, automigrate, how long to retry an unreachable database).
 */
import type { BackendConfig } from "../config/config.ts";
import type { BackendOptions } from "./backend.ts";

/** The backend options a `[backend]` section implies. */
export function backendOptionsFromConfig(config: BackendConfig): BackendOptions {
  return {
    dbUri: config.dbUri,
    sqlitePath: config.sqlitePath,
    automigrate: config.automigrate,
    maxValueSize: config.maxValueSize,
    valueStorePath: config.valueStorePath,
    valueStoreMinSize: config.valueStoreMinSize,
    retry: { attempts: config.dbRetries, maxWaitMs: config.dbRetryMaxWait * 1000 },
    connection: {
      usernameEnv: config.dbUsernameEnv,
      passwordEnv: config.dbPasswordEnv,
      awsSecretName: config.dbAwsSecretName,
    },
  };
}
