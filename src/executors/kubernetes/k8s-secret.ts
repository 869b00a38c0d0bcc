/**
 * What goes into the executor's Secret: with `import_aws_secrets`, the scheduler's `AWS_*`
 * variables (credentials, region, endpoints), and every variable named in `secret_env_vars`.
 * Pods read it through `envFrom`, so the values never appear in a Job's spec or in logs.
 */

/** The Secret's data, from the scheduler's environment, and the names that were not set. */
export function secretData(
  importAws: boolean,
  names: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): { data: Record<string, string>; missing: string[] } {
  const data: Record<string, string> = {};
  if (importAws) {
    for (const key of Object.keys(env).sort()) {
      if (/^AWS_[A-Z0-9_]+$/.test(key) && env[key]) data[key] = env[key]!;
    }
  }
  const missing: string[] = [];
  for (const name of names) {
    const value = env[name];
    if (value === undefined) missing.push(name);
    else data[name] = value;
  }
  return { data, missing };
}

/** The Secret's name when `secret_name` is not set. */
export const DEFAULT_SECRET_NAME = "redun-secret";
