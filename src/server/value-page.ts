/**
 * A value's page: its type, size and hash, the value laid out in full (large values cut),
 * and where it came from and went: the calls whose result it is and the calls that took it
 * as an argument (`valueProvenance`). A File or Dir links to the lineage of its path.
 */
import { html } from "hono/html";
import { getValue, valueProvenance, type ProvenanceSource } from "../backend/queries.ts";
import { getTags } from "../backend/tags.ts";
import { inspectValue } from "../backend/value-preview.ts";
import { facts, idLink, links, short, tagChips, time, type Html } from "./html-page.ts";

/** The path of a File or Dir value, if it is one. */
export function filePathOf(type: string, value: unknown): string | undefined {
  if (type !== "redun.File" && type !== "redun.Dir") return undefined;
  const p = (value as { path?: unknown } | null)?.path;
  return typeof p === "string" ? p : undefined;
}

/** The value's page body (undefined: no such value). */
export async function valuePage(
  source: ProvenanceSource,
  hash: string,
): Promise<{ title: string; body: Html } | undefined> {
  const value = await getValue(source, hash);
  if (!value) return undefined;
  const [provenance, tags] = await Promise.all([
    valueProvenance(source.db, hash),
    getTags(source.db, "value", [hash]),
  ]);
  const file = filePathOf(value.type, value.value);
  const body = html`<h1>Value <span class="mono">${value.valueHash}</span></h1>
    ${facts([
      ["Type", html`<code>${value.type}</code>`],
      ["Size", `${value.size} bytes${value.format === "ref" ? " (in the value store)" : ""}`],
      ["File", file ? html`<a href="${links.file(file)}">${file}</a> (its lineage)` : undefined],
      ["Tags", tags.length ? tagChips(tags) : undefined],
    ])}
    <h2>Value</h2>
    <pre class="value" id="value">${inspectValue(value.value)}</pre>
    <h2>Made by</h2>
    ${
      provenance.producedBy.length
        ? html`<ul class="made-by">
            ${provenance.producedBy.map(
              (c) =>
                html`<li>
                  call ${idLink("call", c.callHash)} ${c.taskName}
                  <span class="muted">${time(c.timestamp)}</span>
                </li>`,
            )}
          </ul>`
        : html`<p class="muted">
            No call returned it (an argument given from outside, or part of one).
          </p>`
    }
    <h2>Used by</h2>
    ${
      provenance.usedBy.length
        ? html`<ul class="used-by">
            ${provenance.usedBy.map(
              (c) =>
                html`<li>
                  call ${idLink("call", c.callHash)} ${c.taskName}
                  <span class="muted">(argument ${c.key ?? String(c.position)})</span>
                </li>`,
            )}
          </ul>`
        : html`<p class="muted">No call took it as an argument.</p>`
    }`;
  return { title: `Value ${short(hash)}`, body };
}
