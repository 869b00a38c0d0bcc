/**
 * An execution's page: its summary (status, command line, duration, tags, jobs by state),
 * its job tree (expandable: `<details>` per job with children) and the timeline of its
 * jobs. While it runs, the page follows it: the part that changes is a fragment of its own
 * (`/executions/ID/live`), reloaded in place on each event of `/executions/ID/events`.
 */
import { html, raw } from "hono/html";
import {
  executionJobs,
  getExecution,
  jobTree,
  type ExecutionInfo,
  type JobNode,
  type ProvenanceSource,
} from "../backend/queries.ts";
import { describeJobCalls } from "../backend/job-calls.ts";
import {
  badge,
  duration,
  facts,
  idLink,
  jobCounts,
  links,
  short,
  tagChips,
  time,
  type Html,
} from "./html-page.ts";
import { timelineSvg } from "./timeline-svg.ts";

/** Most jobs a tree shows (a larger execution shows the first ones, and says so). */
const MAX_TREE_JOBS = 3000;

/** From start to end (to now while running), in milliseconds. */
export function executionDuration(e: ExecutionInfo, now = Date.now()): number | null {
  if (!e.startTime) return null;
  const end = e.endTime && e.status !== "RUNNING" ? Date.parse(e.endTime) : now;
  return end - Date.parse(e.startTime);
}

function jobState(job: JobNode): string {
  return job.cached ? "CACHED" : job.status;
}

function treeNode(job: JobNode, calls: ReadonlyMap<string, string>, depth: number): Html {
  const line = html`<span class="line"
    >${badge(jobState(job))} ${idLink("job", job.id)}
    <span class="call">${calls.get(job.id) ?? job.taskName}</span>
    <span class="muted">${duration(job.durationMs)}</span></span
  >`;
  if (job.children.length === 0) return html`<div class="leaf" data-job="${job.id}">${line}</div>`;
  return html`<details data-id="${job.id}" data-job="${job.id}" ${depth === 0 ? raw("open") : ""}>
    <summary>${line} <span class="muted">(${job.children.length} child jobs)</span></summary>
    ${job.children.map((c) => treeNode(c, calls, depth + 1))}
  </details>`;
}

/** The `<details>` tree of jobs; only the roots start open. */
function jobTreeHtml(roots: JobNode[], calls: ReadonlyMap<string, string>): Html {
  return html`<div class="tree-tools">
      <button type="button" data-tree-action="expand" data-tree="job-tree">Expand all</button>
      <button type="button" data-tree-action="collapse" data-tree="job-tree">Collapse all</button>
    </div>
    <div class="tree" id="job-tree">${roots.map((r) => treeNode(r, calls, 0))}</div>`;
}

/** The part of the page that changes while the execution runs. */
export async function executionLive(
  source: ProvenanceSource,
  id: string,
): Promise<{ execution: ExecutionInfo; body: Html } | undefined> {
  const execution = await getExecution(source.db, id);
  if (!execution) return undefined;
  const all = await executionJobs(source.db, id);
  const jobs = all.slice(0, MAX_TREE_JOBS);
  const calls = await describeJobCalls(source, jobs);
  const total = Object.values(execution.jobCounts).reduce((a, b) => a + b, 0);
  const running = execution.status === "RUNNING";
  const body = html`<div class="summary">
      ${facts([
        [
          "Status",
          html`${badge(execution.status)}${
            running ? html`<span class="live-note">live: updates as it runs</span>` : ""
          }`,
        ],
        ["Command", html`<code>redun ${execution.args.join(" ")}</code>`],
        [
          "Task",
          execution.taskName
            ? html`<a href="${links.task(execution.taskName)}">${execution.taskName}</a>`
            : undefined,
        ],
        ["Started", time(execution.startTime)],
        ["Ended", running ? "-" : time(execution.endTime)],
        ["Duration", duration(executionDuration(execution))],
        [
          "Jobs",
          html`<span data-total="${total}">${total}</span> ${jobCounts(execution.jobCounts)}`,
        ],
        ["Tags", execution.tags.length ? tagChips(execution.tags) : undefined],
      ])}
    </div>
    <h2>Job tree</h2>
    ${jobTreeHtml(jobTree(jobs), calls)}
    ${
      all.length > jobs.length
        ? html`<p class="muted">The first ${jobs.length} of ${all.length} jobs.</p>`
        : ""
    }
    <h2>Timeline</h2>
    <div class="timeline">${timelineSvg(jobs, calls)}</div>`;
  return { execution, body };
}

/** The execution's page body (undefined: no such execution). */
export async function executionPage(
  source: ProvenanceSource,
  id: string,
): Promise<{ title: string; body: Html } | undefined> {
  const live = await executionLive(source, id);
  if (!live) return undefined;
  const { execution } = live;
  const running = execution.status === "RUNNING";
  const base = links.execution(id);
  return {
    title: `Execution ${short(id)}`,
    body: html`<h1>
        Execution <span class="mono">${id}</span>
        <span class="sub"> · <a href="${base}/graph">dataflow graph</a></span>
      </h1>
      <div id="live" data-fragment="${base}/live" data-events="${running ? `${base}/events` : ""}">
        ${live.body}
      </div>`,
  };
}
