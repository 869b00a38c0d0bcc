/**
 * Tasks: every recorded task with its number of versions and jobs, and a task's page — its
 * versions (by task hash, newest first) with when they ran, two of them side by side with
 * their differences (the newest two unless `?a=HASH&b=HASH` picks others), and the
 * executions that ran it (`taskHistory`).
 */
import { html } from "hono/html";
import type { Kysely } from "kysely";
import { taskHistory, type TaskHistory, type TaskVersion } from "../backend/history.ts";
import type { Database } from "../backend/schema.ts";
import { layout } from "../backend/why.ts";
import { idLink, links, short, time, type Html } from "./html-page.ts";
import { sideBySide } from "./source-diff.ts";
import { listTasks } from "./server-queries.ts";

/** The list of tasks. */
export async function tasksPage(db: Kysely<Database>, search: string): Promise<Html> {
  const tasks = await listTasks(db, search || undefined);
  return html`<h1>Tasks</h1>
    <form class="filters" method="get" action="/tasks">
      <label>Name contains<input name="q" value="${search}" /></label>
      <button type="submit">Search</button>
    </form>
    ${
      tasks.length
        ? html`<table class="tasks">
            <thead>
              <tr>
                <th>Task</th>
                <th>Versions</th>
                <th>Jobs</th>
                <th>Last run (UTC)</th>
              </tr>
            </thead>
            <tbody>
              ${tasks.map(
                (t) =>
                  html`<tr>
                    <td><a href="${links.task(t.fullname)}">${t.fullname}</a></td>
                    <td>${t.versions}</td>
                    <td>${t.jobs}</td>
                    <td class="mono">${time(t.lastRun)}</td>
                  </tr>`,
              )}
            </tbody>
          </table>`
        : html`<p class="muted">No tasks recorded${search ? " match" : ""}.</p>`
    }`;
}

function versionTitle(h: TaskHistory, v: TaskVersion): Html {
  const n = h.versions.length - h.versions.indexOf(v);
  return html`version ${n} <span class="mono">${short(v.taskHash)}</span>
    <span class="muted">(${v.jobs} jobs, last ${time(v.lastRun)})</span>`;
}

function history(h: TaskHistory, pick: { a?: string; b?: string }): Html {
  const find = (hash: string | undefined) =>
    hash ? h.versions.find((v) => v.taskHash.startsWith(hash)) : undefined;
  // Newest first: b is the newer side (right), a the older (left).
  const b = find(pick.b) ?? h.versions[0]!;
  const a = find(pick.a) ?? h.versions.find((v) => v !== b);
  const compare = a
    ? html`<h2>Side by side</h2>
        ${sideBySide(layout(a.source), layout(b.source), [versionTitle(h, a), versionTitle(h, b)])}`
    : html`<h2>Source</h2>
        <pre class="source">${layout(b.source)}</pre>`;
  const base = links.task(h.fullname);
  return html`<section class="task-history">
    <h1>Task ${h.fullname}</h1>
    <h2>Versions (newest first)</h2>
    <table class="versions-table">
      <thead>
        <tr>
          <th>Version</th>
          <th>Task hash</th>
          <th>Jobs</th>
          <th>First run</th>
          <th>Last run</th>
          <th>Compare</th>
        </tr>
      </thead>
      <tbody>
        ${h.versions.map(
          (v, i) =>
            html`<tr>
              <td>${h.versions.length - i}</td>
              <td class="mono">${v.taskHash}</td>
              <td>${v.jobs}</td>
              <td class="mono">${time(v.firstRun)}</td>
              <td class="mono">${time(v.lastRun)}</td>
              <td>
                ${
                  v === b || h.versions.length < 2
                    ? ""
                    : html`<a href="${base}?a=${v.taskHash}&b=${b.taskHash}"
                        >with ${short(b.taskHash)}</a
                      >`
                }
              </td>
            </tr>`,
        )}
      </tbody>
    </table>
    ${compare}
    <h2>Executions that ran it (newest first)</h2>
    <ul>
      ${h.executions.map(
        (e) =>
          html`<li>
            ${idLink("execution", e.id)} <span class="mono">${time(e.startTime)}</span>
            <span class="muted">version ${short(e.taskHash)}</span>
          </li>`,
      )}
    </ul>
  </section>`;
}

/** A task's page body (undefined: no task has this name). */
export async function taskPage(
  db: Kysely<Database>,
  name: string,
  pick: { a?: string; b?: string },
): Promise<{ title: string; body: Html } | undefined> {
  const histories = await taskHistory(db, name);
  if (histories.length === 0) return undefined;
  return {
    title: `Task ${name}`,
    body: html`${histories.map((h) => history(h, pick))}`,
  };
}
