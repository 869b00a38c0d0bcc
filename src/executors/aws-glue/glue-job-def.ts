/**
 * Glue job definitions: one per distinct definition (launcher script location, role,
 * worker type, Glue version, default arguments), named `{glue_job_prefix}-{hash of the
 * definition}`. A job of that name is reused when its properties match (GetJob), created
 * otherwise (CreateJob), and never changed: a job of the name with other properties (edited
 * by hand) is an error, not something to overwrite.
 */
import { createHash } from "node:crypto";
import type { CreateJobCommandInput, GlueClient, Job } from "@aws-sdk/client-glue";

/** Runs one job definition may have at once (Glue's default is 1: one call at a time). */
export const MAX_CONCURRENT_RUNS = 1000;

/** The properties of a job definition that redun manages. */
export interface GlueJobDefSpec {
  scriptLocation: string;
  role: string;
  workerType: string;
  glueVersion: string;
  defaultArguments: Record<string, string>;
}

/** Glue job names: at most 255 characters of letters, digits, `-`, `_` and `.`. */
function sanitize(name: string, max: number): string {
  return name.replace(/[^A-Za-z0-9_.-]/g, "_").slice(0, max);
}

/** `{prefix}-{hash of the definition}`. */
export function glueJobName(prefix: string, spec: GlueJobDefSpec): string {
  const args = Object.keys(spec.defaultArguments)
    .sort()
    .map((k) => [k, spec.defaultArguments[k]]);
  const hash = createHash("sha256")
    .update(
      JSON.stringify([spec.scriptLocation, spec.role, spec.workerType, spec.glueVersion, args]),
    )
    .digest("hex")
    .slice(0, 16);
  return `${sanitize(prefix, 200)}-${hash}`;
}

/** The CreateJob request of a definition. */
export function createJobRequest(name: string, spec: GlueJobDefSpec): CreateJobCommandInput {
  return {
    Name: name,
    Description: "redun job definition (made by redun; runs one redun job per run)",
    Role: spec.role,
    Command: { Name: "glueetl", ScriptLocation: spec.scriptLocation, PythonVersion: "3" },
    GlueVersion: spec.glueVersion,
    WorkerType: spec.workerType as CreateJobCommandInput["WorkerType"],
    // Each run gives its own worker count; Glue wants one with a worker type.
    NumberOfWorkers: 2,
    DefaultArguments: spec.defaultArguments,
    ExecutionProperty: { MaxConcurrentRuns: MAX_CONCURRENT_RUNS },
    Tags: { redun: "true" },
  };
}

/** What differs between an existing job and a definition (empty: it matches). */
export function jobDifferences(job: Job, spec: GlueJobDefSpec): string[] {
  const out: string[] = [];
  if (job.Command?.ScriptLocation !== spec.scriptLocation) out.push("script location");
  if (job.Role !== spec.role) out.push("role");
  if (job.WorkerType !== undefined && job.WorkerType !== spec.workerType) out.push("worker type");
  if (job.GlueVersion !== undefined && job.GlueVersion !== spec.glueVersion)
    out.push("Glue version");
  const have = job.DefaultArguments ?? {};
  const want = spec.defaultArguments;
  const keys = new Set([...Object.keys(have), ...Object.keys(want)]);
  if ([...keys].some((k) => have[k] !== want[k])) out.push("default arguments");
  return out;
}

function errorName(error: unknown): string {
  return (error as { name?: string })?.name ?? "";
}

/** Finds or creates job definitions, asking Glue once per definition per executor. */
export class GlueJobDefinitions {
  private readonly cache = new Map<string, Promise<string>>();

  /**
   * The name of the job for `spec` (created if missing).
   * @param where - names the executor in error messages.
   */
  ensure(
    client: GlueClient,
    region: string,
    prefix: string,
    spec: GlueJobDefSpec,
    where: string,
  ): Promise<string> {
    const name = glueJobName(prefix, spec);
    const key = `${region}\n${name}`;
    let promise = this.cache.get(key);
    if (!promise) {
      promise = this.resolve(client, name, spec, where);
      this.cache.set(key, promise);
      promise.catch(() => this.cache.delete(key));
    }
    return promise;
  }

  private async resolve(
    client: GlueClient,
    name: string,
    spec: GlueJobDefSpec,
    where: string,
  ): Promise<string> {
    const { GetJobCommand, CreateJobCommand } = await import("@aws-sdk/client-glue");
    const check = (job: Job | undefined) => {
      const diff = job ? jobDifferences(job, spec) : [];
      if (diff.length > 0) {
        throw new Error(
          `${where}: the AWS Glue job "${name}" exists with another ${diff.join(", ")} than redun ` +
            "gives it; redun never changes a job: delete it, or set another glue_job_prefix",
        );
      }
      return name;
    };
    try {
      return check((await client.send(new GetJobCommand({ JobName: name }))).Job);
    } catch (error) {
      if (errorName(error) !== "EntityNotFoundException") throw error;
    }
    try {
      await client.send(new CreateJobCommand(createJobRequest(name, spec)));
      return name;
    } catch (error) {
      // Another scheduler created it meanwhile.
      if (
        errorName(error) !== "AlreadyExistsException" &&
        errorName(error) !== "IdempotentParameterMismatchException"
      )
        throw error;
      return check((await client.send(new GetJobCommand({ JobName: name }))).Job);
    }
  }
}
