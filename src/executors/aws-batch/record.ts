/**
 * Which Batch job runs a call: `SCRATCH/jobs/EVAL_HASH/batch-job` (JSON), written right
 * after submission. A scheduler started again reads it to reunite with the job (still
 * queued or running: wait for it; succeeded: read its output) instead of submitting the
 * same call twice. This file is the Batch executor's addition to the shared scratch layout;
 * the protocol's own cleanup leaves it alone.
 */
import { jobDir, readScratchJson, scratchJoin, writeScratchJson } from "../remote/scratch.ts";

/** The Batch job of a call. */
export interface BatchJobRecord {
  /** The Batch job id (`PARENT:INDEX` for an array child). */
  jobId: string;
  /** `""`: the SDK's default region. */
  region: string;
  queue: string;
  /** The array job, for an array child. */
  arrayJobId?: string;
  index?: number;
}

/** Where the record of a call lives. */
export function recordPath(scratch: string, evalHash: string): string {
  return scratchJoin(jobDir(scratch, evalHash), "batch-job");
}

/** Writes the record of a call. */
export function writeRecord(
  scratch: string,
  evalHash: string,
  record: BatchJobRecord,
): Promise<void> {
  return writeScratchJson(recordPath(scratch, evalHash), record);
}

/** The record of a call, if one was written (and is readable). */
export async function readRecord(
  scratch: string,
  evalHash: string,
): Promise<BatchJobRecord | undefined> {
  const record = await readScratchJson<BatchJobRecord>(recordPath(scratch, evalHash)).catch(
    () => undefined,
  );
  return record && typeof record.jobId === "string" ? record : undefined;
}
