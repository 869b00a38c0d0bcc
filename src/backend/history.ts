/**
 * Provenance across executions: jobs by status, task and time (newest first), and a task's
 * history — each version of its code (by task hash) with when it first and last ran, and
 * the executions that ran it. What `redun log --job-status` and `redun log TASK` show.
 */
import type { Kysely } from "kysely";
import { jobSelect, toJobInfo, type JobInfo } from "./queries.ts";
import type { Database } from "./schema.ts";

/** Which jobs {@link listJobs} returns. */
export interface JobFilter {
  /** Only jobs in this state (`DONE`, `CACHED`, `FAILED`, `RUNNING`, …). */
  status?: string;
  /** Only jobs of this task (name or full name). */
  task?: string;
  /** Only jobs that started at this time (ISO 8601) or later. */
  since?: string;
  limit?: number;
}

/** Jobs across executions, newest first. */
export async function listJobs(db: Kysely<Database>, filter: JobFilter = {}): Promise<JobInfo[]> {
  let query = jobSelect(db).orderBy("job.start_time", "desc").orderBy("job.id", "desc");
  if (filter.status) query = query.where("job.status", "=", filter.status.toUpperCase());
  if (filter.task) {
    const task = filter.task;
    query = query.where((eb) =>
      eb.or([eb("task.fullname", "=", task), eb("task.name", "=", task)]),
    );
  }
  if (filter.since) query = query.where("job.start_time", ">=", filter.since);
  if (filter.limit !== undefined) query = query.limit(filter.limit);
  return (await query.execute()).map(toJobInfo);
}

/** One version of a task's code, as recorded. */
export interface TaskVersion {
  taskHash: string;
  fullname: string;
  /** The recorded (normalized) source. */
  source: string;
  jobs: number;
  firstRun: string | null;
  lastRun: string | null;
}

/** A task's versions (newest first) and the executions that ran it (newest first). */
export interface TaskHistory {
  fullname: string;
  versions: TaskVersion[];
  executions: { id: string; startTime: string; taskHash: string }[];
}

/**
 * The history of the tasks with this name or full name (one per full name), or an empty
 * list when no task has it.
 */
export async function taskHistory(
  db: Kysely<Database>,
  name: string,
  limit = 20,
): Promise<TaskHistory[]> {
  const tasks = await db
    .selectFrom("task")
    .leftJoin("job", "job.task_hash", "task.hash")
    .select((eb) => [
      "task.hash",
      "task.fullname",
      "task.source",
      eb.fn.count<number>("job.id").as("jobs"),
      eb.fn.min<string | null>("job.start_time").as("first_run"),
      eb.fn.max<string | null>("job.start_time").as("last_run"),
    ])
    .where((eb) => eb.or([eb("task.fullname", "=", name), eb("task.name", "=", name)]))
    .groupBy(["task.hash", "task.fullname", "task.source"])
    .execute();
  const histories: TaskHistory[] = [];
  for (const fullname of [...new Set(tasks.map((t) => t.fullname))].sort()) {
    const versions = tasks
      .filter((t) => t.fullname === fullname)
      .map((t) => ({
        taskHash: t.hash,
        fullname,
        source: t.source,
        jobs: Number(t.jobs),
        firstRun: t.first_run,
        lastRun: t.last_run,
      }))
      .sort((a, b) => (b.lastRun ?? "").localeCompare(a.lastRun ?? ""));
    const executions = await db
      .selectFrom("job")
      .select((eb) => [
        "job.execution_id",
        "job.task_hash",
        eb.fn.min<string>("job.start_time").as("start_time"),
      ])
      .where(
        "job.task_hash",
        "in",
        versions.map((v) => v.taskHash),
      )
      .groupBy(["job.execution_id", "job.task_hash"])
      .orderBy("start_time", "desc")
      .limit(limit)
      .execute();
    histories.push({
      fullname,
      versions,
      executions: executions.map((e) => ({
        id: e.execution_id,
        startTime: e.start_time,
        taskHash: e.task_hash,
      })),
    });
  }
  return histories;
}
