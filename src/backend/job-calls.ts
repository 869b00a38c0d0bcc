/**
 * Jobs described by the calls they made, in one line each (`task(x=1, y=2)`), for lists of
 * jobs (a job tree, a timeline, a call graph): the arguments of many calls read in a few
 * queries, each shown by its preview.
 */
import { getValues, type JobInfo, type ProvenanceSource } from "./queries.ts";
import { preview } from "./value-preview.ts";

/**
 * The one-line call of each job, by job id: `task(x=1, y=2)` (arguments by name, or by
 * position), or `task(…)` when its arguments were not recorded (a job still running, or
 * one that failed before its call was recorded).
 * @param width - how wide each argument's preview may be.
 */
export async function describeJobCalls(
  source: ProvenanceSource,
  jobs: readonly JobInfo[],
  width = 30,
): Promise<Map<string, string>> {
  const callHashes = [...new Set(jobs.flatMap((j) => (j.callHash ? [j.callHash] : [])))];
  const args: {
    call_hash: string;
    value_hash: string;
    arg_key: string | null;
    arg_position: number | null;
  }[] = [];
  for (let i = 0; i < callHashes.length; i += 500) {
    const rows = await source.db
      .selectFrom("argument")
      .select(["call_hash", "value_hash", "arg_key", "arg_position"])
      .where("call_hash", "in", callHashes.slice(i, i + 500))
      .orderBy("call_hash")
      .orderBy("arg_position")
      .execute();
    for (const row of rows) args.push(row);
  }
  const values = await getValues(
    source,
    args.map((a) => a.value_hash),
  );
  const byCall = new Map<string, string[]>();
  for (const a of args) {
    const list = byCall.get(a.call_hash) ?? [];
    const value = values.get(a.value_hash);
    const text = value ? preview(value.value, width) : "?";
    list.push(a.arg_key ? `${a.arg_key}=${text}` : text);
    byCall.set(a.call_hash, list);
  }
  return new Map(
    jobs.map((job) => {
      const list = job.callHash ? byCall.get(job.callHash) : undefined;
      return [job.id, list ? `${job.taskName}(${list.join(", ")})` : `${job.taskName}(…)`];
    }),
  );
}
