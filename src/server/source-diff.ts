/**
 * Differences between two versions of a task's source, as HTML tables: a unified diff (the
 * text `explainJob` gives) with its removed and added lines marked, and two versions side by
 * side, line against line (the `diff` package's line diff).
 */
import { html } from "hono/html";
import { diffLines } from "diff";
import type { Html } from "./html-page.ts";

/** A unified diff (`--- a`, `+++ b`, `@@ … @@`, lines) as a table, headers left out. */
export function unifiedDiffTable(patch: string): Html {
  const lines = patch.replace(/\n$/, "").split("\n");
  const body = lines
    .filter((l) => !l.startsWith("---") && !l.startsWith("+++") && !l.startsWith("==="))
    .filter((l) => !l.startsWith("Index:") && !l.startsWith("\\ No newline"))
    .map((line) => {
      if (line.startsWith("@@"))
        return html`<tr class="gap">
          <td><code>${line}</code></td>
        </tr>`;
      const kind = line.startsWith("+") ? "add" : line.startsWith("-") ? "del" : "";
      return html`<tr class="${kind}">
        <td><code>${line}</code></td>
      </tr>`;
    });
  return html`<table class="diff unified">
    <tbody>
      ${body}
    </tbody>
  </table>`;
}

/** Two texts side by side: unchanged lines on both sides, removed left, added right. */
export function sideBySide(before: string, after: string, titles: [Html, Html]): Html {
  const rows: { left?: string; right?: string; kind: "same" | "change" }[] = [];
  let removed: string[] = [];
  const flush = (added: string[]) => {
    const n = Math.max(removed.length, added.length);
    for (let i = 0; i < n; i++) rows.push({ left: removed[i], right: added[i], kind: "change" });
    removed = [];
  };
  for (const part of diffLines(before, after)) {
    const lines = part.value.replace(/\n$/, "").split("\n");
    if (part.removed) {
      removed.push(...lines);
    } else if (part.added) {
      flush(lines);
    } else {
      flush([]);
      for (const line of lines) rows.push({ left: line, right: line, kind: "same" });
    }
  }
  flush([]);
  return html`<table class="diff side-by-side">
    <thead>
      <tr>
        <th>${titles[0]}</th>
        <th>${titles[1]}</th>
      </tr>
    </thead>
    <tbody>
      ${rows.map(
        (r) =>
          html`<tr>
            <td class="${r.kind === "change" && r.left !== undefined ? "del" : ""}">
              <code>${r.left ?? ""}</code>
            </td>
            <td class="${r.kind === "change" && r.right !== undefined ? "add" : ""}">
              <code>${r.right ?? ""}</code>
            </td>
          </tr>`,
      )}
    </tbody>
  </table>`;
}
