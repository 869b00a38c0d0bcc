/**
 * Batch job tags: the user's `batch_tags`, plus (with `default_batch_tags`, the default)
 * redun's own: job id, task name, execution id, project and the AWS caller.
 */

/** What the default tags describe. */
export interface TagContext {
  /** The redun job (for an array job: the first child's). */
  jobId: string;
  taskName: string;
  executionId: string;
  /** The caller's ARN (sts:GetCallerIdentity), when known. */
  awsUser: string | undefined;
  /** Eval hash of a single job (lets a restarted scheduler and people find it). */
  evalHash?: string;
  /** The array id of an array job. */
  arrayId?: string;
}

/** AWS allows 50 tags per resource, keys of 128 and values of 256 characters. */
const MAX_TAGS = 50;
const MAX_KEY = 128;
const MAX_VALUE = 256;

/**
 * The project of a task: the first part of its namespace (the task name when it has
 * none). Python redun takes the root task's namespace; a job knows only its own task.
 */
export function projectOf(taskFullname: string): string {
  const dot = taskFullname.indexOf(".");
  return dot === -1 ? taskFullname : taskFullname.slice(0, dot);
}

/** redun's default tags. */
export function defaultTags(context: TagContext): Record<string, string> {
  return {
    redun_job_id: context.jobId,
    redun_task_name: context.taskName,
    redun_execution_id: context.executionId,
    redun_project: projectOf(context.taskName),
    ...(context.awsUser ? { redun_aws_user: context.awsUser } : {}),
    ...(context.evalHash ? { redun_eval_hash: context.evalHash } : {}),
    ...(context.arrayId ? { redun_array_id: context.arrayId } : {}),
  };
}

/**
 * The tags of a job: default tags (when enabled) overridden by the user's tags. Values are
 * cut to AWS's limits; more than 50 tags is an error naming the executor.
 */
export function buildTags(
  userTags: Readonly<Record<string, string>>,
  useDefaults: boolean,
  context: TagContext,
  where: string,
): Record<string, string> {
  const tags: Record<string, string> = {
    ...(useDefaults ? defaultTags(context) : {}),
    ...userTags,
  };
  const count = Object.keys(tags).length;
  if (count > MAX_TAGS) {
    throw new Error(
      `${where}: ${count} batch tags, but AWS Batch allows at most ${MAX_TAGS} per job`,
    );
  }
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(tags)) {
    if (key.length > MAX_KEY)
      throw new Error(`${where}: batch tag key "${key}" is longer than ${MAX_KEY} characters`);
    out[key] = value.slice(0, MAX_VALUE);
  }
  return out;
}
