/**
 * The timeline of an execution's jobs as SVG: one row per job in the order they started, a
 * bar from its start to its end (to now while it runs), coloured by state, each bar a link
 * to its job with the call as its tooltip. Drawn on the server: SVG attributes, no styles.
 */
import { html } from "hono/html";
import type { JobInfo } from "../backend/queries.ts";
import { duration, links, type Html } from "./html-page.ts";

/** Most rows drawn (a larger execution shows its first jobs, and says so). */
const MAX_ROWS = 400;
const ROW = 18;
const LABEL = 240;
const WIDTH = 900;
const AXIS = 22;

function state(job: JobInfo): string {
  return (job.cached ? "CACHED" : job.status).toLowerCase();
}

/** The timeline of these jobs (calls: one-line descriptions by job id). */
export function timelineSvg(
  jobs: readonly JobInfo[],
  calls: ReadonlyMap<string, string>,
  now = Date.now(),
): Html {
  if (jobs.length === 0) return html`<p class="muted">No jobs recorded.</p>`;
  const shown = jobs.slice(0, MAX_ROWS);
  const start = Math.min(...shown.map((j) => Date.parse(j.startTime)));
  const endOf = (j: JobInfo) => (j.endTime ? Date.parse(j.endTime) : now);
  const end = Math.max(start + 1, ...shown.map(endOf));
  const span = end - start;
  const x = (t: number) => LABEL + ((t - start) / span) * (WIDTH - LABEL - 10);
  const height = AXIS + shown.length * ROW + 6;
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => ({ at: x(start + f * span), label: f * span }));
  return html`<svg
      xmlns="http://www.w3.org/2000/svg"
      width="${WIDTH}"
      height="${height}"
      viewBox="0 0 ${WIDTH} ${height}"
      role="img"
      aria-label="timeline of the jobs"
    >
      ${ticks.map(
        (t) =>
          html`<line class="grid" x1="${t.at}" x2="${t.at}" y1="${AXIS - 4}" y2="${height}" />
            <text x="${Math.min(t.at, WIDTH - 60)}" y="13">${duration(t.label)}</text>`,
      )}
      ${shown.map((job, i) => {
        const y = AXIS + i * ROW;
        const left = x(Date.parse(job.startTime));
        const w = Math.max(2, x(endOf(job)) - left);
        const call = calls.get(job.id) ?? job.taskName;
        const label = job.taskName.length > 30 ? job.taskName.slice(0, 29) + "…" : job.taskName;
        return html`<a href="${links.job(job.id)}">
          <title>
            ${call} — ${job.cached ? "CACHED" : job.status}, ${duration(job.durationMs)}
          </title>
          <text x="4" y="${y + 12}">${label}</text>
          <rect
            class="bar ${state(job)}"
            x="${left}"
            y="${y + 3}"
            width="${w}"
            height="${ROW - 6}"
          />
        </a>`;
      })}
    </svg>
    ${
      jobs.length > MAX_ROWS
        ? html`<p class="muted">The first ${MAX_ROWS} of ${jobs.length} jobs.</p>`
        : ""
    }`;
}
