/**
 * Why a job ran, or why it was replayed, from what the database recorded: a cached job
 * names the job that recorded the result it replayed; a job that ran is compared with the
 * latest earlier call of its task, and the answer says what differed — the task's code
 * (with a diff of its source), which arguments (a file by its path), or that the task had
 * never run. The library's answer to `redun log --why`; a web view can show the same.
 */
import type { Kysely } from "kysely";
import { getCall, getJob, IdLookupError, type JobInfo, type ProvenanceSource } from "./queries.ts";
import type { Database } from "./schema.ts";

/** An earlier call a job was compared with, and the job that recorded it. */
export interface ComparedCall {
  callHash: string;
  taskHash: string;
  timestamp: string;
  /** The first job that ran the call (not replayed), when its row is still there. */
  jobId: string | null;
  executionId: string | null;
}

/** An argument whose value differs from the earlier call's. */
export interface ChangedArgument {
  /** The parameter name, or its position. */
  name: string;
  before: string | null;
  after: string | null;
  /** For a file: its path (same path, other content). */
  file?: string;
}

/** Why a job ran, or was replayed. */
export interface JobExplanation {
  job: JobInfo;
  verdict: "replayed" | "ran" | "unfinished";
  /** The answer, a sentence per reason. */
  reasons: string[];
  /** The call the job replayed, or the earlier call it was compared with. */
  comparedTo: ComparedCall | null;
  /** When the task's code changed: a unified diff of its recorded source. */
  sourceDiff?: string;
  changedArguments?: ChangedArgument[];
}

/** How many earlier calls of a task are read to find the closest one. */
const EARLIER_CALLS = 200;

/**
 * Explains a job (by its full id).
 * @param preview - how an argument value is shown (a short text).
 * @throws IdLookupError when no job has this id.
 */
export async function explainJob(
  source: ProvenanceSource,
  jobId: string,
  preview: (value: unknown) => string,
): Promise<JobExplanation> {
  const { db } = source;
  const job = await getJob(db, jobId);
  if (!job) throw new IdLookupError(`no job has the id ${jobId}`);
  if (!job.endTime || !job.callHash) {
    return {
      job,
      verdict: "unfinished",
      reasons: [`The job has not finished (status ${job.status}): nothing to explain yet.`],
      comparedTo: null,
    };
  }
  if (job.cached) return explainReplay(db, job, job.callHash);
  const call = await getCall(source, job.callHash);
  if (!call) throw new IdLookupError(`the call of job ${jobId} is not recorded`);
  const earlier = await db
    .selectFrom("call_node")
    .select(["call_hash", "task_hash", "args_hash", "eval_hash", "timestamp"])
    .where("task_name", "=", call.taskName)
    .where("call_hash", "!=", call.callHash)
    .where("timestamp", "<", job.startTime)
    .orderBy("timestamp", "desc")
    .limit(EARLIER_CALLS)
    .execute();
  const failed = job.status === "FAILED";
  const same = earlier.find((c) => c.eval_hash === call.evalHash);
  if (same) {
    return {
      job,
      verdict: "ran",
      reasons: [
        `The same call (task code and arguments) was recorded before, at ${same.timestamp}, ` +
          "but not replayed: the run did not use the cache for it (--no-cache, the task " +
          "options cache or cacheScope), or a value in its result no longer held (a file " +
          "it returned changed or was deleted)" +
          (failed ? "; then it failed." : "."),
      ],
      comparedTo: await compared(db, same),
    };
  }
  // The closest earlier call: same arguments with other code, else same code with other
  // arguments, else the latest of any kind.
  const closest =
    earlier.find((c) => c.args_hash === call.argsHash) ??
    earlier.find((c) => c.task_hash === call.taskHash) ??
    earlier[0];
  if (!closest) {
    return {
      job,
      verdict: "ran",
      reasons: [`Task ${call.taskName} had never run before: no earlier call of it is recorded.`],
      comparedTo: null,
    };
  }
  const explanation: JobExplanation = {
    job,
    verdict: "ran",
    reasons: [],
    comparedTo: await compared(db, closest),
  };
  if (closest.task_hash !== call.taskHash) {
    explanation.reasons.push(
      `The code of task ${call.taskName} changed (task hash ${short(closest.task_hash)} → ` +
        `${short(call.taskHash)}).`,
    );
    explanation.sourceDiff = await sourceDiff(db, call.taskName, closest.task_hash, call.taskHash);
  }
  if (closest.args_hash !== call.argsHash) {
    const before = await getCall(source, closest.call_hash);
    const changed = await changedArguments(db, before?.arguments ?? [], call.arguments, preview);
    explanation.changedArguments = changed;
    const names = changed.map((c) => (c.file ? `${c.name} (file ${c.file})` : c.name));
    explanation.reasons.push(
      names.length > 0
        ? `Its arguments changed: ${names.join(", ")}.`
        : "Its arguments changed (in ways their previews do not show).",
    );
  }
  if (failed) explanation.reasons.push("Then it failed.");
  return explanation;
}

/** A replayed job: the job that recorded what it replayed. */
async function explainReplay(
  db: Kysely<Database>,
  job: JobInfo,
  callHash: string,
): Promise<JobExplanation> {
  const node = await db
    .selectFrom("call_node")
    .select(["call_hash", "task_hash", "timestamp"])
    .where("call_hash", "=", callHash)
    .executeTakeFirst();
  const comparedTo = node ? await compared(db, node) : null;
  const by = comparedTo?.jobId
    ? `job ${short(comparedTo.jobId)} (execution ${short(comparedTo.executionId ?? "")})`
    : "an earlier run whose job is no longer recorded";
  return {
    job,
    verdict: "replayed",
    reasons: [
      `Replayed from the cache: the same task code and arguments ran before, in ${by}` +
        (comparedTo ? `, recorded at ${comparedTo.timestamp}` : "") +
        ", and every value in its result still held.",
    ],
    comparedTo,
  };
}

async function compared(
  db: Kysely<Database>,
  call: { call_hash: string; task_hash: string; timestamp: string },
): Promise<ComparedCall> {
  const first = await db
    .selectFrom("job")
    .select(["id", "execution_id"])
    .where("call_hash", "=", call.call_hash)
    .where("cached", "=", 0)
    .orderBy("start_time")
    .limit(1)
    .executeTakeFirst();
  return {
    callHash: call.call_hash,
    taskHash: call.task_hash,
    timestamp: call.timestamp,
    jobId: first?.id ?? null,
    executionId: first?.execution_id ?? null,
  };
}

/** A unified diff of a task's recorded source between two of its hashes. */
async function sourceDiff(
  db: Kysely<Database>,
  taskName: string,
  before: string,
  after: string,
): Promise<string | undefined> {
  const rows = await db
    .selectFrom("task")
    .select(["hash", "source"])
    .where("hash", "in", [before, after])
    .execute();
  const text = (hash: string) => rows.find((r) => r.hash === hash)?.source;
  const [old, now] = [text(before), text(after)];
  if (old === undefined || now === undefined) return undefined;
  // Loaded on use: only `--why` needs it.
  const { createTwoFilesPatch } = await import("diff");
  return createTwoFilesPatch(
    `${taskName} ${short(before)}`,
    `${taskName} ${short(after)}`,
    layout(old),
    layout(now),
    undefined,
    undefined,
    { context: 3 },
  );
}

/** The arguments whose values differ, by position (or name). */
async function changedArguments(
  db: Kysely<Database>,
  before: readonly ArgumentLike[],
  after: readonly ArgumentLike[],
  preview: (value: unknown) => string,
): Promise<ChangedArgument[]> {
  const key = (a: ArgumentLike) => a.key ?? String(a.position);
  const old = new Map(before.map((a) => [key(a), a]));
  const keys = [...new Set([...after.map(key), ...before.map(key)])];
  const hashes = [...before, ...after].map((a) => a.value.valueHash);
  const files = new Map(
    hashes.length === 0
      ? []
      : (
          await db
            .selectFrom("file")
            .select(["value_hash", "path"])
            .where("value_hash", "in", hashes)
            .execute()
        ).map((f) => [f.value_hash, f.path]),
  );
  const changed: ChangedArgument[] = [];
  for (const k of keys) {
    const a = old.get(k);
    const b = after.find((x) => key(x) === k);
    if (a && b && a.value.valueHash === b.value.valueHash) continue;
    const fileA = a && (files.get(a.value.valueHash) ?? filePath(a.value.value));
    const fileB = b && (files.get(b.value.valueHash) ?? filePath(b.value.value));
    changed.push({
      name: k,
      before: a ? preview(a.value.value) : null,
      after: b ? preview(b.value.value) : null,
      ...(fileA && fileA === fileB ? { file: fileA } : {}),
    });
  }
  return changed;
}

interface ArgumentLike {
  position: number | null;
  key: string | null;
  value: { valueHash: string; value: unknown };
}

/** The path of a file-like value (an object with a string `path`), if it is one. */
function filePath(value: unknown): string | undefined {
  const path = (value as { path?: unknown } | null)?.path;
  return value !== null && typeof value === "object" && typeof path === "string" ? path : undefined;
}

const short = (hash: string) => hash.slice(0, 8);
/**
 * A recorded source laid out in lines for a diff. The source is recorded normalized (the
 * tokens the task hash covers, one space apart: comments and formatting do not count), so
 * statements and blocks are put back on lines of their own.
 */
export function layout(source: string): string {
  if (source.includes("\n")) return source.endsWith("\n") ? source : `${source}\n`;
  let depth = 0;
  const lines: string[] = [];
  let line: string[] = [];
  const end = () => {
    if (line.length) lines.push("  ".repeat(depth) + line.join(" "));
    line = [];
  };
  for (const token of source.split(" ")) {
    if (token === "}") {
      end();
      depth = Math.max(0, depth - 1);
      line.push(token);
      continue;
    }
    line.push(token);
    if (token === "{") {
      end();
      depth++;
    } else if (token === ";") end();
  }
  end();
  return lines.join("\n") + "\n";
}
