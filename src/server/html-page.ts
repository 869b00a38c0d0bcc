/**
 * The web UI's page frame and the small pieces every page uses: the layout (navigation,
 * the database it shows, the stylesheet and script), status badges, short ids, times and
 * durations. Everything goes through hono's `html` template, which escapes every
 * interpolated value: a value holding `<script>` shows as text.
 */
import { html } from "hono/html";

/** An HTML fragment (escaped, or built from escaped parts). */
export type Html = ReturnType<typeof html>;

/** What every page shows around its body. */
export interface PageFrame {
  /** The database shown, without credentials (`sqlite:///…/redun.db`, `postgresql://host/db`). */
  location: string;
}

/** The first 8 characters of an id or hash. */
export const short = (id: string | null | undefined): string => (id ? id.slice(0, 8) : "-");

/** An ISO time as `2026-11-30 10:00:00` (UTC), or `-`. */
export function time(iso: string | null | undefined): string {
  return iso ? iso.slice(0, 19).replace("T", " ") : "-";
}

/** Milliseconds as `850 ms`, `12.3 s`, `4 min 05 s`, `2 h 03 min`; `-` for none. */
export function duration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return "-";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${String(Math.floor(s % 60)).padStart(2, "0")} s`;
  return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, "0")} min`;
}

/** A job's or an execution's state as a coloured badge (a replayed job says CACHED). */
export function badge(status: string): Html {
  const known = ["DONE", "CACHED", "FAILED", "RUNNING", "PENDING", "INTERRUPTED", "CANCELLED"];
  const kind = known.includes(status) ? status.toLowerCase() : "other";
  return html`<span class="badge ${kind}">${status}</span>`;
}

/** A link to a record's page. */
export const links = {
  execution: (id: string) => `/executions/${encodeURIComponent(id)}`,
  job: (id: string) => `/jobs/${encodeURIComponent(id)}`,
  call: (hash: string) => `/calls/${encodeURIComponent(hash)}`,
  value: (hash: string) => `/values/${encodeURIComponent(hash)}`,
  task: (name: string) => `/tasks/${encodeURIComponent(name)}`,
  file: (path: string) => `/files?path=${encodeURIComponent(path)}`,
};

/** A short id linking to its record. */
export function idLink(kind: keyof typeof links, id: string, text = short(id)): Html {
  return html`<a class="id" href="${links[kind](id)}" title="${id}">${text}</a>`;
}

const NAV = [
  ["/executions", "Executions"],
  ["/tasks", "Tasks"],
  ["/files", "Files"],
] as const;

/** A whole page: head, navigation, the body, and the database it reads. */
export function page(
  frame: PageFrame,
  title: string,
  body: Html,
  options: { current?: string } = {},
): Html {
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>${title} · redun</title>
        <link rel="stylesheet" href="/assets/redun.css" />
        <script src="/assets/redun.js" defer></script>
      </head>
      <body>
        <header>
          <a class="brand" href="/">redun</a>
          <nav>
            ${NAV.map(
              ([href, label]) =>
                html`<a href="${href}" class="${options.current === href ? "current" : ""}"
                  >${label}</a
                >`,
            )}
          </nav>
          <form class="jump" method="get" action="/find">
            <input name="id" placeholder="id, prefix, task or file path" aria-label="find" />
          </form>
        </header>
        <main>${body}</main>
        <footer>database ${frame.location} · read-only</footer>
      </body>
    </html>`;
}

/** A labelled list of facts (`<dl>`), skipping empty ones. */
export function facts(rows: [string, unknown][]): Html {
  return html`<dl class="facts">
    ${rows
      .filter(([, v]) => v !== undefined && v !== null && v !== "")
      .map(
        ([k, v]) =>
          html`<dt>${k}</dt>
            <dd>${v}</dd>`,
      )}
  </dl>`;
}

/** Tags as `key=value` chips. */
export function tagChips(tags: readonly { key: string; value: unknown }[]): Html {
  return html`${tags.map(
    (t) =>
      html`<span class="tag"
        >${t.key}=${typeof t.value === "string" ? t.value : JSON.stringify(t.value)}</span
      >`,
  )}`;
}

/** Counts of jobs by state, as badges with numbers. */
export function jobCounts(counts: Record<string, number>): Html {
  const order = ["RUNNING", "PENDING", "FAILED", "CACHED", "DONE"];
  const keys = Object.keys(counts).sort(
    (a, b) => (order.indexOf(a) + 1 || 99) - (order.indexOf(b) + 1 || 99),
  );
  return html`<span class="counts"
    >${keys.map((k) => html`<span class="count ${k.toLowerCase()}">${k} ${counts[k]}</span>`)}</span
  >`;
}
