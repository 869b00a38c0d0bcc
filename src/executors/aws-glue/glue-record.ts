/**
 * Which Glue job run runs a call: `SCRATCH/jobs/EVAL_HASH/glue-job-run` (JSON), written right
 * after StartJobRun. A scheduler started again reads it to reunite with the run (still
 * running: wait for it; succeeded: read its output) instead of starting the call twice.
 */
import { jobDir, readScratchJson, scratchJoin, writeScratchJson } from "../remote/scratch.ts";

/** The Glue job run of a call. */
export interface GlueRunRecord {
  jobName: string;
  runId: string;
  /** `""`: the SDK's default region. */
  region: string;
}

/** Where the record of a call lives. */
export function glueRecordPath(scratch: string, evalHash: string): string {
  return scratchJoin(jobDir(scratch, evalHash), "glue-job-run");
}

/** Writes the record of a call. */
export function writeGlueRecord(
  scratch: string,
  evalHash: string,
  record: GlueRunRecord,
): Promise<void> {
  return writeScratchJson(glueRecordPath(scratch, evalHash), record);
}

/** The record of a call, if one was written (and is readable). */
export async function readGlueRecord(
  scratch: string,
  evalHash: string,
): Promise<GlueRunRecord | undefined> {
  const record = await readScratchJson<GlueRunRecord>(glueRecordPath(scratch, evalHash)).catch(
    () => undefined,
  );
  return record && typeof record.runId === "string" && typeof record.jobName === "string"
    ? record
    : undefined;
}
