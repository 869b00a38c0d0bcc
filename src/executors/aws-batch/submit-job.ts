/**
 * SubmitJob requests: a single job, an array job (children find their call by index in
 * `SCRATCH/array/ARRAY_ID/jobs`), and multi-node jobs (only the main node writes the
 * output; the other nodes write theirs beside it, under `node-workers/`).
 */
import { createHash } from "node:crypto";
import type { KeyValuePair, SubmitJobCommandInput } from "@aws-sdk/client-batch";
import { scratchJoin, type JobPaths } from "../remote/scratch.ts";
import { sanitizeName } from "./job-def.ts";
import type { BatchJobSettings } from "./job-settings.ts";

/** Batch job names: at most 128 characters of letters, digits, `-` and `_`. */
const MAX_NAME = 128;

/** The name of a single job: `PREFIX-EVAL_HASH`. */
export function singleJobName(prefix: string, evalHash: string): string {
  const tail = `-${evalHash}`;
  return sanitizeName(prefix, MAX_NAME - tail.length) + tail;
}

/** The name of an array job: `PREFIX-array-ARRAY_ID`. */
export function arrayJobName(prefix: string, arrayId: string): string {
  const tail = `-array-${arrayId}`;
  return sanitizeName(prefix, MAX_NAME - tail.length) + tail;
}

/** The id of an array job: a hash of its children's eval hashes, in order. */
export function arrayIdOf(evalHashes: readonly string[]): string {
  return createHash("sha1").update(evalHashes.join("\n")).digest("hex");
}

/**
 * Environment variables for the job. When the scheduler talks to an S3-compatible server
 * (`AWS_ENDPOINT_URL`, `AWS_ENDPOINT_URL_S3`: moto, MinIO, LocalStack), the job must reach
 * the same one, with the same credentials: those variables are passed through. Against
 * AWS itself no credentials are passed (the job role provides them).
 */
export function jobEnvironment(env: NodeJS.ProcessEnv = process.env): KeyValuePair[] {
  const endpoints = Object.keys(env).filter((k) => /^AWS_ENDPOINT_URL(_[A-Z0-9_]+)?$/.test(k));
  const names = [...endpoints, "AWS_REGION", "AWS_DEFAULT_REGION"];
  if (endpoints.length > 0)
    names.push("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN");
  return names
    .filter((name) => env[name] !== undefined && env[name] !== "")
    .sort()
    .map((name) => ({ name, value: env[name]! }));
}

/** What every submission carries. */
export interface SubmitCommon {
  jobName: string;
  jobDefinitionArn: string;
  settings: BatchJobSettings;
  tags: Record<string, string>;
  environment: KeyValuePair[];
}

function baseRequest(common: SubmitCommon): SubmitJobCommandInput {
  const { settings } = common;
  return {
    jobName: common.jobName,
    jobQueue: settings.queue,
    jobDefinition: common.jobDefinitionArn,
    retryStrategy: { attempts: settings.attempts },
    ...(settings.timeout !== undefined
      ? { timeout: { attemptDurationSeconds: settings.timeout } }
      : {}),
    ...(settings.shareId !== undefined ? { shareIdentifier: settings.shareId } : {}),
    ...(settings.schedulingPriorityOverride !== undefined
      ? { schedulingPriorityOverride: settings.schedulingPriorityOverride }
      : {}),
    tags: common.tags,
    propagateTags: true,
  };
}

/** A single job running `command`. */
export function singleJobRequest(common: SubmitCommon, command: string[]): SubmitJobCommandInput {
  return {
    ...baseRequest(common),
    containerOverrides: { command, environment: common.environment },
  };
}

/** An array job of `size` children running `command` (which names the array's job list). */
export function arrayJobRequest(
  common: SubmitCommon,
  command: string[],
  size: number,
): SubmitJobCommandInput {
  return {
    ...baseRequest(common),
    arrayProperties: { size },
    containerOverrides: { command, environment: common.environment },
  };
}

/** Where the non-main nodes of a multi-node job write (never read by the scheduler). */
export function workerNodePaths(paths: JobPaths): {
  output: string;
  error: string;
  status: string;
} {
  const dir = scratchJoin(paths.dir, "node-workers");
  return {
    output: scratchJoin(dir, "output"),
    error: scratchJoin(dir, "error"),
    status: scratchJoin(dir, "status"),
  };
}

/**
 * A multi-node job: node 0 (the main node) runs `command` and writes the job's output; the
 * other nodes run the same call with their output, error and status redirected.
 */
export function multiNodeRequest(
  common: SubmitCommon,
  command: string[],
  paths: JobPaths,
  numNodes: number,
): SubmitJobCommandInput {
  const worker = workerNodePaths(paths);
  const workerCommand = [
    ...command,
    "--output",
    worker.output,
    "--error",
    worker.error,
    "--status",
    worker.status,
  ];
  return {
    ...baseRequest(common),
    nodeOverrides: {
      numNodes,
      nodePropertyOverrides: [
        { targetNodes: "0", containerOverrides: { command, environment: common.environment } },
        ...(numNodes > 1
          ? [
              {
                targetNodes: "1:",
                containerOverrides: { command: workerCommand, environment: common.environment },
              },
            ]
          : []),
      ],
    },
  };
}
