/**
 * The list of executions, newest first: status, start, duration, command line, root task,
 * jobs by state and tags; filtered by status, task, tag and a free-text search (an id
 * prefix, or words of the command line, task or tags), a page at a time. While any listed
 * execution runs, the list follows them (`/executions/events`).
 */
import { html } from "hono/html";
import {
  listExecutions,
  type ExecutionFilter,
  type ExecutionInfo,
  type ExecutionStatus,
} from "../backend/queries.ts";
import type { Kysely } from "kysely";
import type { Database } from "../backend/schema.ts";
import {
  badge,
  duration,
  idLink,
  jobCounts,
  links,
  tagChips,
  time,
  type Html,
} from "./html-page.ts";
import { executionDuration } from "./execution-page.ts";
import { parseTagValue } from "../config/config.ts";

const STATUSES: readonly ExecutionStatus[] = ["DONE", "FAILED", "RUNNING", "INTERRUPTED"];
const PAGE_SIZE = 50;
/** Most executions a text search looks through. */
const SEARCH_LIMIT = 2000;

/** The query string of the list page. */
export interface ExecutionQuery {
  status?: string;
  task?: string;
  tag?: string;
  q?: string;
  page?: string;
}

/** `key=value` (the value JSON when it parses, as `redun log --tag` reads it) or `key`. */
function tagFilter(text: string): { key: string; value?: unknown } | undefined {
  const t = text.trim();
  if (!t) return undefined;
  const eq = t.indexOf("=");
  if (eq <= 0) return { key: t };
  return { key: t.slice(0, eq), value: parseTagValue(t.slice(eq + 1)) };
}

function matches(e: ExecutionInfo, words: string[]): boolean {
  const text = [
    e.id,
    e.args.join(" "),
    e.taskName ?? "",
    ...e.tags.map(
      (t) => `${t.key}=${typeof t.value === "string" ? t.value : JSON.stringify(t.value)}`,
    ),
  ]
    .join(" ")
    .toLowerCase();
  return words.every((w) => text.includes(w));
}

/** The executions a query asks for, and whether there are more after them. */
async function find(
  db: Kysely<Database>,
  query: ExecutionQuery,
): Promise<{ executions: ExecutionInfo[]; page: number; more: boolean }> {
  const page = Math.max(1, Number.parseInt(query.page ?? "1", 10) || 1);
  const status = query.status?.toUpperCase();
  const tag = tagFilter(query.tag ?? "");
  const filter: ExecutionFilter = {
    status: STATUSES.includes(status as ExecutionStatus) ? (status as ExecutionStatus) : undefined,
    task: query.task?.trim() || undefined,
    tags: tag ? [tag] : [],
  };
  const words = (query.q ?? "").toLowerCase().split(/\s+/).filter(Boolean);
  if (words.length === 0) {
    const found = await listExecutions(db, {
      ...filter,
      limit: PAGE_SIZE + 1,
      offset: (page - 1) * PAGE_SIZE,
    });
    return { executions: found.slice(0, PAGE_SIZE), page, more: found.length > PAGE_SIZE };
  }
  const all = (await listExecutions(db, { ...filter, limit: SEARCH_LIMIT })).filter((e) =>
    matches(e, words),
  );
  const from = (page - 1) * PAGE_SIZE;
  return {
    executions: all.slice(from, from + PAGE_SIZE),
    page,
    more: all.length > from + PAGE_SIZE,
  };
}

function row(e: ExecutionInfo): Html {
  return html`<tr data-execution="${e.id}">
    <td>${idLink("execution", e.id)}</td>
    <td>${badge(e.status)}</td>
    <td class="mono">${time(e.startTime ?? e.updatedTime)}</td>
    <td>${duration(executionDuration(e))}</td>
    <td><code>${e.args.join(" ")}</code></td>
    <td>${e.taskName ? html`<a href="${links.task(e.taskName)}">${e.taskName}</a>` : "-"}</td>
    <td>${jobCounts(e.jobCounts)}</td>
    <td>${tagChips(e.tags)}</td>
  </tr>`;
}

/** The table (and pager) part of the list, which live updates reload. */
export async function executionsTable(
  db: Kysely<Database>,
  query: ExecutionQuery,
): Promise<{ body: Html; running: boolean }> {
  const { executions, page, more } = await find(db, query);
  const params = (p: number) => {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (v && k !== "page") q.set(k, String(v));
    q.set("page", String(p));
    return `/executions?${q.toString()}`;
  };
  const filtered = query.status || query.task || query.tag || query.q;
  const body =
    executions.length === 0
      ? html`<p class="muted">
          ${filtered ? "No executions match." : "No executions recorded yet: run a workflow."}
        </p>`
      : html`<table class="executions">
            <thead>
              <tr>
                <th>Execution</th>
                <th>Status</th>
                <th>Started (UTC)</th>
                <th>Duration</th>
                <th>Command</th>
                <th>Task</th>
                <th>Jobs</th>
                <th>Tags</th>
              </tr>
            </thead>
            <tbody>
              ${executions.map(row)}
            </tbody>
          </table>
          <div class="pager">
            ${page > 1 ? html`<a href="${params(page - 1)}">← newer</a>` : ""}
            ${more ? html`<a href="${params(page + 1)}">older →</a>` : ""}
          </div>`;
  return { body, running: executions.some((e) => e.status === "RUNNING") };
}

/** The list page's body. */
export async function executionsPage(db: Kysely<Database>, query: ExecutionQuery): Promise<Html> {
  const { body } = await executionsTable(db, query);
  const qs = new URLSearchParams(
    Object.entries(query).filter(([, v]) => typeof v === "string" && v !== "") as [
      string,
      string,
    ][],
  ).toString();
  const option = (s: string) =>
    html`<option value="${s}" ${query.status?.toUpperCase() === s ? html`selected` : ""}>
      ${s}
    </option>`;
  return html`<h1>Executions</h1>
    <form class="filters" method="get" action="/executions">
      <label
        >Search<input name="q" value="${query.q ?? ""}" placeholder="id, command, task, tag"
      /></label>
      <label
        >Status<select name="status">
          <option value="">any</option>
          ${STATUSES.map(option)}
        </select></label
      >
      <label>Task<input name="task" value="${query.task ?? ""}" placeholder="name" /></label>
      <label>Tag<input name="tag" value="${query.tag ?? ""}" placeholder="key=value" /></label>
      <button type="submit">Filter</button>
      <a href="/executions">clear</a>
    </form>
    <div
      id="live"
      data-fragment="/executions/live${qs ? `?${qs}` : ""}"
      data-events="/executions/events${qs ? `?${qs}` : ""}"
    >
      ${body}
    </div>`;
}
