/**
 * What remote executors say on the scheduler's standard error (`[redun] …` lines: warnings,
 * jobs resubmitted or found again), and the one-line text of an error they report.
 */

/** Writes one `[redun] …` line to standard error. */
export function log(line: string): void {
  process.stderr.write(`[redun] ${line}\n`);
}

/** An error's message, or the text of a thrown non-error. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
