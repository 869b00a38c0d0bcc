/**
 * File lineage: for a path, each recorded version of the file (or directory) there, the
 * calls that produced it and the calls that read it, with their jobs. What `redun log PATH`
 * and the web UI's file page show. Files are found through the `file` table, and through
 * `subvalue` when they were part of a larger value (a list of files, an object).
 */
import type { Kysely } from "kysely";
import type { Database } from "./schema.ts";

/** A call that produced or read a file, with the jobs that made or replayed it. */
export interface FileCall {
  callHash: string;
  taskName: string;
  timestamp: string;
  /** For a reader, where the file was: argument position or name. */
  position?: number | null;
  key?: string | null;
  /** Jobs of the call, oldest first. */
  jobs: { id: string; executionId: string; status: string; startTime: string }[];
}

/** One recorded version of a file: its value (path and content hash) and where it went. */
export interface FileVersion {
  valueHash: string;
  path: string;
  /** Calls whose result was this file, or a value holding it. */
  producedBy: FileCall[];
  /** Calls that took this file, or a value holding it, as an argument. */
  readBy: FileCall[];
}

/**
 * The recorded versions of the file at a path, oldest first. Paths are matched exactly as
 * recorded (as the workflow wrote them: absolute, relative to where it ran, or a URI), so
 * give every spelling that may have been used (`out/a.txt` and `/home/me/proj/out/a.txt`).
 */
export async function fileLineage(
  db: Kysely<Database>,
  path: string | readonly string[],
): Promise<FileVersion[]> {
  const paths = typeof path === "string" ? [path] : [...new Set(path)];
  const files = await db.selectFrom("file").selectAll().where("path", "in", paths).execute();
  if (files.length === 0) return [];
  const hashes = files.map((f) => f.value_hash);
  const parents = await db
    .selectFrom("subvalue")
    .selectAll()
    .where("value_hash", "in", hashes)
    .execute();
  // Each file's own hash and the hashes of the values that hold it.
  const holders = new Map(hashes.map((h) => [h, new Set([h])]));
  for (const p of parents) holders.get(p.value_hash)!.add(p.parent_value_hash);
  const all = [...new Set([...hashes, ...parents.map((p) => p.parent_value_hash)])];

  const produced = await db
    .selectFrom("call_node")
    .select(["call_hash", "task_name", "timestamp", "value_hash"])
    .where("value_hash", "in", all)
    .execute();
  const read = await db
    .selectFrom("argument")
    .innerJoin("call_node", "call_node.call_hash", "argument.call_hash")
    .select([
      "argument.call_hash",
      "argument.value_hash",
      "argument.arg_position",
      "argument.arg_key",
      "call_node.task_name",
      "call_node.timestamp",
    ])
    .where("argument.value_hash", "in", all)
    .execute();
  const callHashes = [...new Set([...produced, ...read].map((c) => c.call_hash))];
  const jobs = callHashes.length
    ? await db
        .selectFrom("job")
        .select(["id", "execution_id", "status", "start_time", "call_hash"])
        .where("call_hash", "in", callHashes)
        .orderBy("start_time")
        .orderBy("id")
        .execute()
    : [];
  const jobsOf = (callHash: string) =>
    jobs
      .filter((j) => j.call_hash === callHash)
      .map((j) => ({
        id: j.id,
        executionId: j.execution_id,
        status: j.status,
        startTime: j.start_time,
      }));
  const byTime = (a: FileCall, b: FileCall) =>
    a.timestamp.localeCompare(b.timestamp) || a.callHash.localeCompare(b.callHash);

  const versions = files.map((file): FileVersion => {
    const mine = holders.get(file.value_hash)!;
    return {
      valueHash: file.value_hash,
      path: file.path,
      producedBy: produced
        .filter((c) => mine.has(c.value_hash))
        .map((c) => ({
          callHash: c.call_hash,
          taskName: c.task_name,
          timestamp: c.timestamp,
          jobs: jobsOf(c.call_hash),
        }))
        .sort(byTime),
      readBy: read
        .filter((c) => mine.has(c.value_hash))
        .map((c) => ({
          callHash: c.call_hash,
          taskName: c.task_name,
          timestamp: c.timestamp,
          position: c.arg_position === null ? null : Number(c.arg_position),
          key: c.arg_key,
          jobs: jobsOf(c.call_hash),
        }))
        .sort(byTime),
    };
  });
  const firstSeen = (v: FileVersion) =>
    [...v.producedBy, ...v.readBy].map((c) => c.timestamp).sort()[0] ?? "";
  return versions.sort((a, b) => firstSeen(a).localeCompare(firstSeen(b)));
}
