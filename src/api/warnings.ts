/**
 * Engine warnings, collected rather than printed so that `[scheduler] ignore_warnings`
 * (read after workflow modules may already have defined tasks) can silence them.
 */

export type WarningKind = "namespace" | "config" | (string & {});

interface PendingWarning {
  kind: WarningKind;
  message: string;
}

const pending: PendingWarning[] = [];
const seen = new Set<string>();

/** Records a warning once (by kind and message). */
export function warn(kind: WarningKind, message: string): void {
  const key = `${kind}\0${message}`;
  if (seen.has(key)) return;
  seen.add(key);
  pending.push({ kind, message });
}

/** Prints and clears pending warnings whose kind is not ignored. */
export function flushWarnings(
  ignore: ReadonlySet<string>,
  write: (line: string) => void = (line) => process.stderr.write(line),
): void {
  for (const w of pending.splice(0)) {
    if (!ignore.has(w.kind)) write(`[redun] warning (${w.kind}): ${w.message}\n`);
  }
}
