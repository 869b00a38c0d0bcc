/**
 * Which Kubernetes Job runs a call: `SCRATCH/jobs/EVAL_HASH/k8s-job` (JSON), written right
 * after the Job is created. A scheduler started again reads it (an Indexed Job's child has
 * no label of its own) to wait for the Job, or to use a result already written, instead of
 * running the call twice. The protocol's own cleanup leaves this file alone.
 */
import { jobDir, readScratchJson, scratchJoin, writeScratchJson } from "../remote/scratch.ts";
import type { K8sJobRef } from "./k8s-monitor.ts";

/** Where the record of a call lives. */
export function k8sRecordPath(scratch: string, evalHash: string): string {
  return scratchJoin(jobDir(scratch, evalHash), "k8s-job");
}

/** Writes the record of a call. */
export function writeK8sRecord(scratch: string, evalHash: string, ref: K8sJobRef): Promise<void> {
  return writeScratchJson(k8sRecordPath(scratch, evalHash), ref);
}

/** The record of a call, if one was written (and is readable). */
export async function readK8sRecord(
  scratch: string,
  evalHash: string,
): Promise<K8sJobRef | undefined> {
  const record = await readScratchJson<K8sJobRef>(k8sRecordPath(scratch, evalHash)).catch(
    () => undefined,
  );
  return record && typeof record.name === "string" && typeof record.namespace === "string"
    ? record
    : undefined;
}
