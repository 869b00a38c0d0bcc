/**
 * The docker executor (`type = docker`): runs each job in a container on this machine with
 * `docker run`, through the remote job protocol (src/executors/remote/): the call is written
 * to the scratch directory, which is mounted into the container at the same absolute path,
 * and the container runs `redun oneshot`, which writes the output or the error beside it.
 *
 * Containers carry labels (`redun.eval_hash`, `redun.job`, `redun.scratch`, …), so that a
 * scheduler started again finds a container still running (or finished but not collected)
 * for the same call and waits for it instead of starting another ("reuniting").
 */
import { randomBytes } from "node:crypto";
import os from "node:os";
import path from "node:path";
import { isUri } from "../../files/filesystem.ts";
import type { Executor, ExecutorFactory, JobSpec } from "../executor.ts";
import { parseExecutorOptions } from "../parse-options.ts";
import {
  collectRemoteResult,
  prepareRemoteJob,
  RemoteJobError,
  type RemoteJobSettings,
} from "../remote/remote-job.ts";
import { jobPaths, writeScratchFile, type JobPaths } from "../remote/scratch.ts";
import { Slots } from "../slots.ts";
import { docker } from "./docker-cli.ts";
import { DOCKER_SCHEMA } from "./docker-schema.ts";

/** Options of a docker executor (`[executors.NAME]`, type = docker). */
export interface DockerExecutorOptions {
  image: string;
  /** Absolute local directory (or a URI, which is then not mounted). */
  scratch: string;
  vcpus: number;
  gpus: number;
  /** GiB. */
  memory: number;
  interactive: boolean;
  network?: string | null;
  code_package: boolean;
  code_includes?: string[] | null;
  code_excludes?: string[] | null;
}

/** The container settings of one job: the executor's, overridden by the task's options. */
export interface DockerJobSettings {
  image: string;
  vcpus: number;
  gpus: number;
  memory: number;
  interactive: boolean;
}

/** Environment variables passed through to containers (S3 access, redun settings). */
export function passThroughEnv(env: NodeJS.ProcessEnv = process.env): string[] {
  return Object.keys(env)
    .filter((k) => /^(AWS_|REDUN_)/.test(k) && k !== "REDUN_CONFIG")
    .sort();
}

/** A container found by its labels. */
interface FoundContainer {
  id: string;
  state: string;
}

/** Runs jobs in local Docker containers. */
export class DockerExecutor implements Executor {
  private readonly slots: Slots;
  /** Code packages built by this executor (one per scheduler: code changes are seen). */
  private readonly packages: RemoteJobSettings["packageCache"] = new Map();

  constructor(
    readonly name: string,
    readonly options: DockerExecutorOptions,
    /** Containers running at once (default: twice the CPUs, at least 4). */
    maxContainers = Math.max(4, 2 * os.availableParallelism()),
  ) {
    this.slots = new Slots(maxContainers);
  }

  /** The remote-protocol settings of this executor. */
  remoteSettings(): RemoteJobSettings {
    return {
      executorName: this.name,
      scratch: this.options.scratch,
      codePackage: this.options.code_package,
      codeIncludes: this.options.code_includes ?? undefined,
      codeExcludes: this.options.code_excludes ?? undefined,
      packageCache: this.packages,
    };
  }

  /** A job's container settings (task options override the executor's). */
  jobSettings(options: Readonly<Record<string, unknown>>): DockerJobSettings {
    const pick = <T>(key: string, fallback: T): T =>
      options[key] === undefined || options[key] === null ? fallback : (options[key] as T);
    return {
      image: pick("image", this.options.image),
      vcpus: Number(pick("vcpus", this.options.vcpus)),
      gpus: Number(pick("gpus", this.options.gpus)),
      memory: Number(pick("memory", this.options.memory)),
      interactive: toBool(pick<unknown>("interactive", this.options.interactive)),
    };
  }

  /** The `docker run` arguments (before the image) for a job. */
  runArgs(job: JobSpec, settings: DockerJobSettings, containerName: string): string[] {
    const args = ["run", "-d", "--name", containerName];
    const labels: Record<string, string> = {
      "redun.executor": this.name,
      "redun.job": job.jobId,
      "redun.execution": job.executionId,
      "redun.eval_hash": job.evalHash,
      "redun.task": job.task.fullname,
      "redun.scratch": this.options.scratch,
    };
    for (const [k, v] of Object.entries(labels)) args.push("--label", `${k}=${v}`);
    if (!isUri(this.options.scratch)) {
      // Same path inside and out: every path in the job's input is valid in the container.
      args.push("-v", `${this.options.scratch}:${this.options.scratch}`);
    }
    if (this.options.network) args.push("--network", this.options.network);
    if (settings.vcpus > 0) args.push("--cpus", String(settings.vcpus));
    if (settings.memory > 0) args.push("--memory", `${Math.round(settings.memory * 1024)}m`);
    if (settings.gpus > 0) args.push("--gpus", String(settings.gpus));
    // `-e NAME` without a value: docker copies it from its own environment (no secrets on
    // the command line).
    for (const name of passThroughEnv()) args.push("-e", name);
    return args;
  }

  /** The container left for this call by an earlier scheduler, if any. */
  private async findContainer(evalHash: string): Promise<FoundContainer | undefined> {
    const result = await docker([
      "ps",
      "-a",
      "--filter",
      `label=redun.eval_hash=${evalHash}`,
      "--filter",
      `label=redun.scratch=${this.options.scratch}`,
      "--format",
      "{{.ID}} {{.State}}",
    ]);
    if (result.code !== 0) return undefined;
    const found = result.stdout
      .split("\n")
      .filter(Boolean)
      .map((line) => {
        const [id, state] = line.trim().split(/\s+/);
        return { id: id!, state: (state ?? "").toLowerCase() };
      });
    for (const c of found) {
      if (c.state === "created" || c.state === "dead") await docker(["rm", "-f", c.id]);
    }
    return (
      found.find(
        (c) => c.state === "running" || c.state === "restarting" || c.state === "paused",
      ) ?? found.find((c) => c.state === "exited")
    );
  }

  async submit(job: JobSpec): Promise<unknown> {
    const settings = this.jobSettings(job.options);
    return this.slots.run(async () => {
      let paths: JobPaths;
      let containerId: string;
      const found = await this.findContainer(job.evalHash);
      if (found) {
        // Reunite: a scheduler before us started this very call; its result is ours.
        containerId = found.id;
        paths = jobPaths(this.options.scratch, job.evalHash);
        process.stderr.write(
          `[redun] ${this.name}: reuniting task ${job.task.fullname} with its container ` +
            `${containerId.slice(0, 12)} (${found.state}), started by an earlier scheduler\n`,
        );
      } else {
        const prepared = await prepareRemoteJob(job, this.remoteSettings());
        paths = prepared.paths;
        containerId = await this.start(job, settings, prepared.command);
      }
      return this.finish(job, settings, containerId, paths);
    });
  }

  /** Starts the container; returns its id. */
  private async start(
    job: JobSpec,
    settings: DockerJobSettings,
    command: string[],
  ): Promise<string> {
    const containerName = `redun-${job.evalHash.slice(0, 12)}-${randomBytes(4).toString("hex")}`;
    const args = [...this.runArgs(job, settings, containerName), settings.image, ...command];
    const result = await docker(args);
    if (result.code !== 0) {
      await docker(["rm", "-f", containerName]);
      const message = (result.stderr.trim() || result.stdout.trim())
        .split("\n")
        .filter((line) => line.trim() && !line.startsWith("Run 'docker run --help'"))
        .join(" ")
        .replace(/^docker: /, "");
      const where = `task "${job.task.fullname}" on executor "${this.name}"`;
      const exec =
        /exec: "?redun"?: executable file not found[^:]*|no such file or directory/i.exec(message);
      if (exec) {
        throw new RemoteJobError(
          `${where}: the image "${settings.image}" has no "redun" command (${exec[0]}): install ` +
            'the redun package in the image and put redun on PATH (see "Docker executor" in the README)',
        );
      }
      throw new RemoteJobError(
        `${where}: cannot start a container of image "${settings.image}" ` +
          `(docker run exit code ${result.code}): ${message}`,
      );
    }
    return result.stdout.trim().split("\n").pop()!.trim();
  }

  /** Waits for the container, keeps its log, removes it, and reads the job's result. */
  private async finish(
    job: JobSpec,
    settings: DockerJobSettings,
    containerId: string,
    paths: JobPaths,
  ): Promise<unknown> {
    let follow: Promise<unknown> | undefined;
    if (settings.interactive) {
      // Interactive: the container's output goes to this terminal as it is written.
      follow = docker(["logs", "-f", containerId], {
        onOutput: (chunk) => process.stderr.write(chunk),
      });
    }
    const waited = await docker(["wait", containerId]);
    await follow;
    const exitCode = waited.code === 0 ? Number(waited.stdout.trim()) : undefined;
    const chunks: Buffer[] = [];
    await docker(["logs", containerId], { onOutput: (chunk) => chunks.push(chunk) });
    const log = Buffer.concat(chunks).toString("utf8");
    await writeScratchFile(paths.log, log).catch(() => undefined);
    await docker(["rm", "-f", containerId]);
    return collectRemoteResult(paths, {
      task: job.task.fullname,
      executorName: this.name,
      exitCode,
      log,
      hint: exitHint(exitCode, settings.image),
    });
  }

  async stop(): Promise<void> {
    // Containers still running are left to finish: a scheduler started again reunites
    // with them (by their labels) instead of running the same call twice.
  }
}

/** A boolean task option (`-o interactive=false` arrives as a string). */
function toBool(value: unknown): boolean {
  if (typeof value === "string") return ["1", "true", "yes", "on"].includes(value.toLowerCase());
  return Boolean(value);
}

/** What an exit code without output or error means. */
function exitHint(exitCode: number | undefined, image: string): string | undefined {
  if (exitCode === 127 || exitCode === 126) {
    return (
      `the image "${image}" cannot run "redun oneshot" (command not found): install the redun ` +
      'package in the image and put redun on PATH (see "Docker executor" in the README)'
    );
  }
  if (exitCode === 137) return "the container was killed (out of memory, or docker kill)";
  return undefined;
}

/** Parses and resolves an executor's options (`scratch` relative to the config dir). */
export function dockerExecutorOptions(
  name: string,
  raw: Readonly<Record<string, unknown>>,
  configDir?: string,
): DockerExecutorOptions {
  const options = parseExecutorOptions(
    "docker",
    name,
    raw,
    DOCKER_SCHEMA,
  ) as unknown as DockerExecutorOptions;
  if (!isUri(options.scratch) && !path.isAbsolute(options.scratch)) {
    options.scratch = path.resolve(configDir ?? process.cwd(), options.scratch);
  }
  return options;
}

/** Creates a docker executor from its `[executors.NAME]` options (registered as `docker`). */
export const createDockerExecutor: ExecutorFactory = (name, raw, context) =>
  new DockerExecutor(name, dockerExecutorOptions(name, raw, context.configDir));
