/**
 * Recorded values as text for people: a one-line preview (`redun log`, the web UI's tables)
 * and a fuller, multi-line rendering (the web UI's value page). Pure formatting of what the
 * provenance queries decoded, shared by every tool that shows values.
 */
import { inspect } from "node:util";
import { previewPathValue } from "../values/path-values.ts";

/**
 * A short one-line rendering of a value, cut to `width` characters; a file or directory
 * keeps the end of its path (`File(…/reads/a.fq)`), the part that tells files apart.
 */
export function preview(value: unknown, width = 60): string {
  let text: string;
  const file = previewPathValue(value, width);
  if (file !== undefined) return file;
  if (value instanceof Error) text = `${value.name}: ${value.message}`;
  else
    text = inspect(value, {
      depth: 2,
      breakLength: Infinity,
      maxArrayLength: 10,
      maxStringLength: width,
      colors: false,
    });
  text = text.replace(/\s*\n\s*/g, " ");
  return text.length > width ? text.slice(0, width - 1) + "…" : text;
}

/**
 * A value laid out on several lines, deep enough to read (large values are cut: at most
 * `maxChars` characters, long arrays and strings shortened with a note of what is left out).
 */
export function inspectValue(value: unknown, maxChars = 20_000): string {
  const text = inspect(value, {
    depth: 6,
    breakLength: 100,
    maxArrayLength: 200,
    maxStringLength: 5_000,
    colors: false,
    sorted: false,
  });
  return text.length > maxChars
    ? `${text.slice(0, maxChars)}\n… (${text.length - maxChars} more characters)`
    : text;
}
