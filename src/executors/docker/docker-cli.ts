/**
 * Running the `docker` command line (no SDK: the CLI honours DOCKER_HOST, contexts and
 * the user's configuration exactly as it does in a terminal).
 */
import { spawn } from "node:child_process";

/** The outcome of one docker command. */
export interface DockerResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** The docker executable (`REDUN_DOCKER` overrides it, for tests and odd installs). */
export function dockerBinary(): string {
  return process.env.REDUN_DOCKER || "docker";
}

/** Runs `docker ARGS` and collects its output; never rejects for a non-zero exit. */
export function docker(
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; onOutput?: (chunk: Buffer) => void } = {},
): Promise<DockerResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(dockerBinary(), args, {
      stdio: ["ignore", "pipe", "pipe"],
      env: options.env ?? process.env,
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (d: Buffer) => {
      out.push(d);
      options.onOutput?.(d);
    });
    child.stderr.on("data", (d: Buffer) => {
      err.push(d);
      options.onOutput?.(d);
    });
    child.on("error", (error) =>
      reject(
        (error as NodeJS.ErrnoException).code === "ENOENT"
          ? new Error(
              `the docker command was not found (${dockerBinary()}): install Docker to use the docker executor`,
            )
          : error,
      ),
    );
    child.on("close", (code) =>
      resolve({
        code: code ?? -1,
        stdout: Buffer.concat(out).toString("utf8"),
        stderr: Buffer.concat(err).toString("utf8"),
      }),
    );
  });
}

/** Runs a docker command that must succeed; the error names the command and docker's message. */
export async function dockerOk(args: readonly string[]): Promise<string> {
  const result = await docker(args);
  if (result.code !== 0) {
    throw new Error(
      `docker ${args[0]} failed (exit code ${result.code}): ${result.stderr.trim() || result.stdout.trim()}`,
    );
  }
  return result.stdout;
}
