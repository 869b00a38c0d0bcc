/**
 * Files: the recorded paths (a search over them), and a path's lineage — each recorded
 * version of the file there, the calls (and jobs) that produced it and the calls that read
 * it (`fileLineage`). A database written before the `file` table was filled still shows
 * the files that were arguments or results themselves, through their values.
 */
import { html } from "hono/html";
import type { Kysely } from "kysely";
import { fileLineage, type FileCall, type FileVersion } from "../backend/file-lineage.ts";
import { valueProvenance, type ProvenanceSource } from "../backend/queries.ts";
import type { Database } from "../backend/schema.ts";
import { badge, idLink, links, short, time, type Html } from "./html-page.ts";
import { recordedFiles } from "./server-queries.ts";

/** Most paths the list shows. */
const MAX_PATHS = 500;

async function knownPaths(source: ProvenanceSource, search: string): Promise<string[]> {
  let query = source.db.selectFrom("file").select("path").distinct().orderBy("path");
  if (search) query = query.where("path", "like", `%${search}%`);
  const paths = new Set((await query.limit(MAX_PATHS).execute()).map((r) => r.path));
  for (const f of await recordedFiles(source)) {
    if (!search || f.path.includes(search)) paths.add(f.path);
  }
  return [...paths].sort().slice(0, MAX_PATHS);
}

/** The list of recorded file paths. */
export async function filesPage(source: ProvenanceSource, search: string): Promise<Html> {
  const paths = await knownPaths(source, search);
  return html`<h1>Files</h1>
    <form class="filters" method="get" action="/files">
      <label>Path contains<input name="q" value="${search}" /></label>
      <button type="submit">Search</button>
    </form>
    ${
      paths.length
        ? html`<ul class="files">
            ${paths.map((p) => html`<li><a href="${links.file(p)}">${p}</a></li>`)}
          </ul>`
        : html`<p class="muted">No files recorded${search ? " match" : ""}.</p>`
    }`;
}

/** A lineage for a database whose `file` table is empty: the File values of the path. */
async function lineageFromValues(db: Kysely<Database>, source: ProvenanceSource, path: string) {
  const versions: FileVersion[] = [];
  for (const f of await recordedFiles(source, path)) {
    const p = await valueProvenance(db, f.valueHash);
    versions.push({
      valueHash: f.valueHash,
      path,
      producedBy: p.producedBy.map((c) => ({ ...c, jobs: [] })),
      readBy: p.usedBy.map((c) => ({ ...c, timestamp: "", jobs: [] })),
    });
  }
  return versions;
}

function callList(calls: FileCall[], none: string): Html {
  if (calls.length === 0) return html`<p class="muted">${none}</p>`;
  return html`<ul>
    ${calls.map(
      (c) =>
        html`<li>
          call ${idLink("call", c.callHash)} ${c.taskName}
          ${
            c.key || c.position !== undefined
              ? html`<span class="muted">(argument ${c.key ?? String(c.position)})</span>`
              : ""
          }
          <span class="muted">${time(c.timestamp)}</span>
          ${c.jobs.map(
            (j) =>
              html` · ${badge(j.status)} job ${idLink("job", j.id)} (execution
              ${idLink("execution", j.executionId)})`,
          )}
        </li>`,
    )}
  </ul>`;
}

/** A path's lineage page body. */
export async function fileLineagePage(
  source: ProvenanceSource,
  path: string,
): Promise<{ title: string; body: Html } | undefined> {
  let versions = await fileLineage(source.db, path);
  if (versions.length === 0) versions = await lineageFromValues(source.db, source, path);
  if (versions.length === 0) return undefined;
  const body = html`<h1>File <span class="mono">${path}</span></h1>
    <p class="muted">
      ${versions.length} recorded version(s) of the file at this path, oldest first: each is its
      content's hash.
    </p>
    ${versions.map(
      (v, i) =>
        html`<section class="file-version">
          <h2>Version ${i + 1}: value ${idLink("value", v.valueHash)}</h2>
          <h3>Produced by</h3>
          ${callList(v.producedBy, "No call produced it: it was an input.")}
          <h3>Read by</h3>
          ${callList(v.readBy, "No call read it.")}
        </section>`,
    )}`;
  return { title: `File ${path.split("/").pop() ?? short(path)}`, body };
}
