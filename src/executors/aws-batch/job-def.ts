/**
 * Job definitions: what a job's container looks like (image, role, resources, privileged,
 * nodes). Registered once and reused: an ACTIVE revision of the same name whose
 * properties match is used as is; otherwise a new revision is registered (unless
 * `autocreate_job_def = false`, where `job_def_name` must name an existing definition).
 */
import type {
  BatchClient,
  ContainerProperties,
  JobDefinition,
  RegisterJobDefinitionCommandInput,
} from "@aws-sdk/client-batch";
import type { BatchJobSettings } from "./job-settings.ts";

/** The properties of a job definition that redun manages. */
export interface JobDefSpec {
  name: string;
  type: "container" | "multinode";
  image: string;
  /** Job role ARN, or `undefined` for none. */
  role: string | undefined;
  vcpus: number;
  /** MiB. */
  memory: number;
  gpus: number;
  privileged: boolean;
  numNodes: number | undefined;
}

/** Job definition names: letters, digits, `-` and `_`, at most 128. */
export function sanitizeName(name: string, max = 128): string {
  return name.replace(/[^A-Za-z0-9_-]/g, "_").slice(0, max);
}

/** The default job definition name for an image (when `job_def_name` is not set). */
export function defaultJobDefName(image: string): string {
  return sanitizeName(`redun-jd-${image}`);
}

/** The job definition a job needs. `role` is the resolved ARN (`undefined`: none). */
export function jobDefSpec(settings: BatchJobSettings, role: string | undefined): JobDefSpec {
  return {
    name: settings.jobDefName ?? defaultJobDefName(settings.image),
    type: settings.numNodes !== undefined ? "multinode" : "container",
    image: settings.image,
    role,
    vcpus: settings.vcpus,
    memory: Math.max(1, Math.round(settings.memory * 1024)),
    gpus: settings.gpus,
    privileged: settings.privileged,
    numNodes: settings.numNodes,
  };
}

function containerProperties(spec: JobDefSpec): ContainerProperties {
  return {
    image: spec.image,
    // Every job replaces the command (`redun oneshot …`); this one only documents it.
    command: ["redun", "oneshot"],
    ...(spec.role ? { jobRoleArn: spec.role } : {}),
    privileged: spec.privileged,
    resourceRequirements: [
      { type: "VCPU", value: String(spec.vcpus) },
      { type: "MEMORY", value: String(spec.memory) },
      ...(spec.gpus > 0 ? [{ type: "GPU" as const, value: String(spec.gpus) }] : []),
    ],
  };
}

/** The RegisterJobDefinition request for a spec. */
export function registerRequest(
  spec: JobDefSpec,
  tags: Record<string, string> = {},
): RegisterJobDefinitionCommandInput {
  const container = containerProperties(spec);
  const base = { jobDefinitionName: spec.name, tags: { redun: "true", ...tags } };
  if (spec.type === "multinode") {
    return {
      ...base,
      type: "multinode",
      nodeProperties: {
        numNodes: spec.numNodes!,
        mainNode: 0,
        nodeRangeProperties: [{ targetNodes: "0:", container }],
      },
    };
  }
  return { ...base, type: "container", containerProperties: container };
}

function resources(container: ContainerProperties | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const r of container?.resourceRequirements ?? []) {
    if (r.type && r.value !== undefined) out[r.type] = r.value;
  }
  // Older definitions give vcpus/memory directly.
  if (out.VCPU === undefined && container?.vcpus !== undefined) out.VCPU = String(container.vcpus);
  if (out.MEMORY === undefined && container?.memory !== undefined)
    out.MEMORY = String(container.memory);
  return out;
}

/** Whether an existing job definition has the properties a spec asks for. */
export function jobDefMatches(def: JobDefinition, spec: JobDefSpec): boolean {
  if (def.status && def.status !== "ACTIVE") return false;
  if (def.jobDefinitionName !== spec.name || def.type !== spec.type) return false;
  let container: ContainerProperties | undefined;
  if (spec.type === "multinode") {
    const nodes = def.nodeProperties;
    if (nodes?.numNodes !== spec.numNodes || nodes?.nodeRangeProperties?.length !== 1) return false;
    container = nodes.nodeRangeProperties[0]!.container;
  } else {
    container = def.containerProperties;
  }
  if (!container || container.image !== spec.image) return false;
  if ((container.jobRoleArn || undefined) !== spec.role) return false;
  if (Boolean(container.privileged) !== spec.privileged) return false;
  const want = resources(containerProperties(spec));
  const have = resources(container);
  return (
    want.VCPU === have.VCPU &&
    want.MEMORY === have.MEMORY &&
    (want.GPU ?? "0") === (have.GPU ?? "0")
  );
}

/** The newest ACTIVE revisions first. */
async function activeDefinitions(client: BatchClient, name: string): Promise<JobDefinition[]> {
  const { DescribeJobDefinitionsCommand } = await import("@aws-sdk/client-batch");
  const defs: JobDefinition[] = [];
  let nextToken: string | undefined;
  do {
    const page = await client.send(
      new DescribeJobDefinitionsCommand({ jobDefinitionName: name, status: "ACTIVE", nextToken }),
    );
    defs.push(...(page.jobDefinitions ?? []));
    nextToken = page.nextToken;
  } while (nextToken);
  return defs.sort((a, b) => (b.revision ?? 0) - (a.revision ?? 0));
}

/**
 * Finds or registers job definitions, remembering each spec's ARN so that a run asks
 * AWS once per distinct spec (concurrent asks share one request).
 */
export class JobDefinitions {
  private readonly cache = new Map<string, Promise<string>>();

  /**
   * The ARN of a job definition for `spec`.
   * @param autocreate - register a new revision when none matches; when false, the newest
   *   ACTIVE revision of `spec.name` is used whatever its properties.
   * @param where - names the executor in error messages.
   */
  arnFor(
    client: BatchClient,
    region: string,
    spec: JobDefSpec,
    autocreate: boolean,
    where: string,
  ): Promise<string> {
    const key = JSON.stringify([region, spec, autocreate]);
    let arn = this.cache.get(key);
    if (!arn) {
      arn = this.resolve(client, spec, autocreate, where);
      this.cache.set(key, arn);
      // A failure is not remembered: the next job asks again.
      arn.catch(() => this.cache.delete(key));
    }
    return arn;
  }

  private async resolve(
    client: BatchClient,
    spec: JobDefSpec,
    autocreate: boolean,
    where: string,
  ): Promise<string> {
    const defs = await activeDefinitions(client, spec.name);
    if (!autocreate) {
      const newest = defs[0];
      if (!newest?.jobDefinitionArn) {
        throw new Error(
          `${where}: job definition "${spec.name}" (job_def_name) has no ACTIVE revision, ` +
            "and autocreate_job_def is false: register it, or set autocreate_job_def = true",
        );
      }
      return newest.jobDefinitionArn;
    }
    const match = defs.find((def) => jobDefMatches(def, spec));
    if (match?.jobDefinitionArn) return match.jobDefinitionArn;
    const { RegisterJobDefinitionCommand } = await import("@aws-sdk/client-batch");
    const registered = await client.send(new RegisterJobDefinitionCommand(registerRequest(spec)));
    return registered.jobDefinitionArn!;
  }
}
