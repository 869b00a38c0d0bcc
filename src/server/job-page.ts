/**
 * A job's page: its task (with the recorded source), state and times, the call it made —
 * arguments (each a link to its value, with the calls its value came from), the result's
 * preview, or the error with its traceback — its child jobs, its tags and logs, and why it
 * ran or why it was replayed from the cache (`explainJob`, the answer of `redun log --why`).
 * A call's page (`/calls/HASH`) shows the same call without a job.
 */
import { html } from "hono/html";
import type { Kysely } from "kysely";
import {
  getCall,
  getJob,
  type CallInfo,
  type JobInfo,
  type ProvenanceSource,
  type ValueInfo,
} from "../backend/queries.ts";
import type { Database } from "../backend/schema.ts";
import { getTags, type Tag } from "../backend/tags.ts";
import { explainJob, layout, type JobExplanation } from "../backend/why.ts";
import { describeJobCalls } from "../backend/job-calls.ts";
import { preview } from "../backend/value-preview.ts";
import {
  badge,
  duration,
  facts,
  idLink,
  links,
  short,
  tagChips,
  time,
  type Html,
} from "./html-page.ts";
import { unifiedDiffTable } from "./source-diff.ts";

/** An error's text: its stack (name, message and frames) when recorded, else name and message. */
function errorText(value: unknown): string {
  if (value instanceof Error) {
    const head = `${value.name}: ${value.message}`;
    const stack = typeof value.stack === "string" ? value.stack : "";
    return stack.includes(value.message) ? stack : `${head}\n${stack}`.trim();
  }
  return preview(value, 2000);
}

function valueCell(value: ValueInfo, width = 120): Html {
  return html`<a class="id" href="${links.value(value.valueHash)}" title="${value.valueHash}"
      >${short(value.valueHash)}</a
    >
    <code>${preview(value.value, width)}</code> <span class="muted">${value.type}</span>`;
}

/** A call's arguments, result (or error) and child calls. */
export function callSection(call: CallInfo, failed: boolean): Html {
  const args = call.arguments.length
    ? html`<table class="arguments">
        <thead>
          <tr>
            <th>Argument</th>
            <th>Value</th>
            <th>From call</th>
          </tr>
        </thead>
        <tbody>
          ${call.arguments.map(
            (a) =>
              html`<tr data-argument="${a.key ?? String(a.position)}">
                <td class="mono">${a.key ?? String(a.position)}</td>
                <td>${valueCell(a.value)}</td>
                <td>${a.upstream.map((u) => idLink("call", u))}</td>
              </tr>`,
          )}
        </tbody>
      </table>`
    : html`<p class="muted">No arguments.</p>`;
  const result = failed
    ? html`<h2>Error</h2>
        <pre class="error" id="error">${errorText(call.result.value)}</pre>`
    : html`<h2>Result</h2>
        <p>
          ${valueCell(call.result, 400)}
          <span class="muted"
            >${call.result.size}
            bytes${call.result.format === "ref" ? ", in the value store" : ""}</span
          >
        </p>`;
  return html`<h2>Arguments</h2>
    ${args} ${result}
    ${
      call.children.length
        ? html`<h2>Child calls</h2>
            <ul>
              ${call.children.map((c) => html`<li>${idLink("call", c.callHash)} ${c.taskName}</li>`)}
            </ul>`
        : ""
    }`;
}

/** Why it ran, or why it was replayed. */
function whySection(e: JobExplanation): Html {
  const compared = e.comparedTo
    ? html`<p>
        ${e.verdict === "replayed" ? "Replayed" : "Compared with"} call
        ${idLink("call", e.comparedTo.callHash)} recorded
        ${time(e.comparedTo.timestamp)}${
          e.comparedTo.jobId ? html`, by job ${idLink("job", e.comparedTo.jobId)}` : ""
        }${
          e.comparedTo.executionId
            ? html` of execution ${idLink("execution", e.comparedTo.executionId)}`
            : ""
        }.
      </p>`
    : "";
  const changed = e.changedArguments?.length
    ? html`<table class="changed">
        <thead>
          <tr>
            <th>Changed argument</th>
            <th>Before</th>
            <th>After</th>
          </tr>
        </thead>
        <tbody>
          ${e.changedArguments.map(
            (a) =>
              html`<tr data-changed="${a.name}">
                <td class="mono">${a.name}</td>
                <td><code>${a.before ?? "(absent)"}</code></td>
                <td>
                  <code>${a.after ?? "(absent)"}</code>${
                    a.file
                      ? html` <span class="muted"
                          >(file <a href="${links.file(a.file)}">${a.file}</a> changed)</span
                        >`
                      : ""
                  }
                </td>
              </tr>`,
          )}
        </tbody>
      </table>`
    : "";
  return html`<div class="why ${e.verdict}" id="why">
    <p>
      <strong
        >${e.verdict === "replayed" ? "CACHED: replayed, not run" : e.verdict === "ran" ? "RAN" : "Unfinished"}</strong
      >
    </p>
    ${e.reasons.map((r) => html`<p>${r}</p>`)} ${compared} ${changed}
    ${
      e.sourceDiff
        ? html`<p class="muted">
              Source diff (recorded, normalized: formatting and comments do not count)
            </p>
            ${unifiedDiffTable(e.sourceDiff)}`
        : ""
    }
  </div>`;
}

/** Tags that look like logs (a log stream, a URL) and a script's output. */
function logsSection(job: JobInfo, tags: Tag[], call: CallInfo | undefined): Html {
  const logTags = tags.filter((t) => /log|stdout|stderr|output/i.test(t.key));
  const scriptOutput =
    job.taskName === "redun.script" && call && typeof call.result.value === "string"
      ? call.result.value
      : undefined;
  if (logTags.length === 0 && scriptOutput === undefined) return html``;
  return html`<h2>Logs</h2>
    ${logTags.map(
      (t) =>
        html`<p>
          <span class="mono">${t.key}</span>:
          <code>${typeof t.value === "string" ? t.value : JSON.stringify(t.value)}</code>
        </p>`,
    )}
    ${
      scriptOutput !== undefined
        ? html`<p class="muted">Standard output of the script:</p>
            <pre>${scriptOutput}</pre>`
        : ""
    }`;
}

async function taskSource(db: Kysely<Database>, taskHash: string): Promise<string | undefined> {
  const row = await db
    .selectFrom("task")
    .select("source")
    .where("hash", "=", taskHash)
    .executeTakeFirst();
  return row?.source;
}

async function childJobs(db: Kysely<Database>, jobId: string) {
  return db
    .selectFrom("job")
    .leftJoin("task", "task.hash", "job.task_hash")
    .select(["job.id", "job.status", "job.cached", "task.fullname"])
    .where("job.parent_id", "=", jobId)
    .orderBy("job.start_time")
    .orderBy("job.id")
    .execute();
}

/** The job's page body (undefined: no such job). */
export async function jobPage(
  source: ProvenanceSource,
  id: string,
): Promise<{ title: string; body: Html } | undefined> {
  const { db } = source;
  const job = await getJob(db, id);
  if (!job) return undefined;
  const call = job.callHash ? await getCall(source, job.callHash) : undefined;
  const [tags, children, code, calls, why] = await Promise.all([
    getTags(db, "job", [id]),
    childJobs(db, id),
    taskSource(db, job.taskHash),
    describeJobCalls(source, [job], 60),
    explainJob(source, id, (v) => preview(v, 40)).catch((error: Error): JobExplanation => ({
      job,
      verdict: "unfinished",
      reasons: [error.message],
      comparedTo: null,
    })),
  ]);
  const state = job.cached ? "CACHED" : job.status;
  const body = html`<h1>Job <span class="mono">${job.id}</span> ${badge(state)}</h1>
    ${facts([
      ["Call", html`<code>${calls.get(job.id) ?? job.taskName}</code>`],
      [
        "Task",
        html`<a href="${links.task(job.taskName)}">${job.taskName}</a>
          <span class="muted mono">${short(job.taskHash)}</span>`,
      ],
      ["Execution", idLink("execution", job.executionId, job.executionId)],
      ["Parent job", job.parentId ? idLink("job", job.parentId) : undefined],
      ["Started", time(job.startTime)],
      ["Ended", time(job.endTime)],
      ["Duration", duration(job.durationMs)],
      ["Call hash", job.callHash ? idLink("call", job.callHash, job.callHash) : undefined],
      ["Tags", tags.length ? tagChips(tags) : undefined],
    ])}
    <h2>${job.cached ? "Why it was cached" : "Why it ran"}</h2>
    ${whySection(why)}
    ${
      call
        ? callSection(call, job.status === "FAILED")
        : html`<p class="muted">
            No call recorded${job.status === "RUNNING" ? " yet: the job has not finished" : ""}.
          </p>`
    }
    ${
      children.length
        ? html`<h2>Child jobs</h2>
            <ul>
              ${children.map(
                (c) =>
                  html`<li>
                    ${badge(Number(c.cached) === 1 ? "CACHED" : c.status)} ${idLink("job", c.id)}
                    ${c.fullname ?? ""}
                  </li>`,
              )}
            </ul>`
        : ""
    }
    ${logsSection(job, tags, call)}
    <h2>Source of ${job.taskName}</h2>
    ${
      code === undefined
        ? html`<p class="muted">Not recorded.</p>`
        : html`<pre class="source">${layout(code)}</pre>`
    }`;
  return { title: `Job ${short(job.id)} ${job.taskName}`, body };
}

/** A call's page body (undefined: no such call). */
export async function callPage(
  source: ProvenanceSource,
  hash: string,
): Promise<{ title: string; body: Html } | undefined> {
  const call = await getCall(source, hash);
  if (!call) return undefined;
  const jobs = await source.db
    .selectFrom("job")
    .select(["id", "status", "cached", "execution_id", "start_time"])
    .where("call_hash", "=", hash)
    .orderBy("start_time")
    .orderBy("id")
    .execute();
  const failed = jobs.length > 0 && jobs.every((j) => j.status === "FAILED");
  const body = html`<h1>Call <span class="mono">${call.callHash}</span></h1>
    ${facts([
      [
        "Task",
        html`<a href="${links.task(call.taskName)}">${call.taskName}</a>
          <span class="muted mono">${short(call.taskHash)}</span>`,
      ],
      ["Recorded", time(call.timestamp)],
      ["Eval hash", html`<span class="mono">${call.evalHash}</span>`],
    ])}
    <h2>Jobs that made or replayed it</h2>
    ${
      jobs.length
        ? html`<ul>
            ${jobs.map(
              (j) =>
                html`<li>
                  ${badge(Number(j.cached) === 1 ? "CACHED" : j.status)} ${idLink("job", j.id)}
                  ${time(j.start_time)} · execution ${idLink("execution", j.execution_id)}
                </li>`,
            )}
          </ul>`
        : html`<p class="muted">No job rows (imported, or pruned).</p>`
    }
    ${callSection(call, failed)}`;
  return { title: `Call ${short(hash)} ${call.taskName}`, body };
}
