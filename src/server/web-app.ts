/**
 * The web UI's routes (a hono app): pages of executions, jobs, calls, values, files and
 * tasks, their live fragments and events, the two static assets, `/find` (an id, a prefix,
 * a task name or a file path, as `redun log` takes them), a 404 page for what does not
 * exist and an error page when the database cannot be read. Only GET: nothing is written.
 * Every response forbids inline script and anything from elsewhere (Content-Security-Policy).
 */
import { Hono, type Context } from "hono";
import { html } from "hono/html";
import {
  getExecution,
  IdLookupError,
  listExecutions,
  resolveId,
  type ProvenanceSource,
} from "../backend/queries.ts";
import { STYLESHEET, SCRIPT } from "./client-assets.ts";
import { page, links, type Html, type PageFrame } from "./html-page.ts";
import { executionLive, executionPage } from "./execution-page.ts";
import { executionsPage, executionsTable, type ExecutionQuery } from "./executions-page.ts";
import { callPage, jobPage } from "./job-page.ts";
import { valuePage } from "./value-page.ts";
import { fileLineagePage, filesPage } from "./file-page.ts";
import { taskPage, tasksPage } from "./task-page.ts";
import { callGraphSvg } from "./call-graph.ts";
import { liveEvents } from "./live-events.ts";

/** What the app reads and shows. */
export interface WebContext extends PageFrame {
  source: ProvenanceSource;
}

const SECURITY_HEADERS = {
  "Content-Security-Policy":
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "no-referrer",
  "X-Frame-Options": "DENY",
};

/** Text of an error, with anything that looks like credentials in a URI taken out. */
export function safeMessage(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.replace(/(\b[a-z][a-z0-9+.-]*:\/\/)[^/@\s]*@/gi, "$1***@");
}

/** Whether an error means the database could not be reached or read. */
function isDatabaseError(error: unknown): boolean {
  const e = error as { name?: string; code?: string; message?: string } | undefined;
  if (!e) return false;
  if (["DatabaseUnavailableError", "DatabaseConnectionError", "SqliteError"].includes(e.name ?? ""))
    return true;
  return /^(ECONN|ETIMEDOUT|ENOTFOUND|EHOSTUNREACH|57P|08|SQLITE_)/.test(String(e.code ?? ""));
}

/** The hono app of the web UI over one database. */
export function createWebApp(ctx: WebContext): Hono {
  const app = new Hono();
  const { source } = ctx;
  const respond = (c: Context, title: string, body: Html, current?: string, status = 200) =>
    c.html(page(ctx, title, body, { current }), status as 200);
  const notFound = (c: Context, what: string) =>
    respond(
      c,
      "Not found",
      html`<div class="error-page" id="not-found">
        <h1>Not found</h1>
        <p>${what}</p>
        <p><a href="/executions">All executions</a></p>
      </div>`,
      undefined,
      404,
    );

  app.use("*", async (c, next) => {
    await next();
    for (const [k, v] of Object.entries(SECURITY_HEADERS)) c.res.headers.set(k, v);
  });
  // Read-only: anything but reading is refused.
  app.use("*", async (c, next) => {
    if (c.req.method !== "GET" && c.req.method !== "HEAD")
      return c.text("This server is read-only.", 405, { Allow: "GET, HEAD" });
    return next();
  });

  app.get("/assets/redun.css", (c) =>
    c.body(STYLESHEET, 200, {
      "Content-Type": "text/css; charset=utf-8",
      "Cache-Control": "no-cache",
    }),
  );
  app.get("/assets/redun.js", (c) =>
    c.body(SCRIPT, 200, {
      "Content-Type": "text/javascript; charset=utf-8",
      "Cache-Control": "no-cache",
    }),
  );
  app.get("/favicon.ico", (c) => c.body(null, 204));
  app.get("/", (c) => c.redirect("/executions"));

  const executionQuery = (c: Context): ExecutionQuery => ({
    status: c.req.query("status"),
    task: c.req.query("task"),
    tag: c.req.query("tag"),
    q: c.req.query("q"),
    page: c.req.query("page"),
  });
  app.get("/executions", async (c) =>
    respond(c, "Executions", await executionsPage(source.db, executionQuery(c)), "/executions"),
  );
  app.get("/executions/live", async (c) =>
    c.html((await executionsTable(source.db, executionQuery(c))).body),
  );
  app.get("/executions/events", (c) =>
    liveEvents(c, async () => {
      const list = await listExecutions(source.db, { limit: 50 });
      return {
        signature: JSON.stringify(list.map((e) => [e.id, e.status, e.jobCounts, e.updatedTime])),
        finished: false,
      };
    }),
  );
  app.get("/executions/:id", async (c) => {
    const id = await resolve(c.req.param("id"), "execution");
    const found = id && (await executionPage(source, id));
    if (!found) return notFound(c, `No execution has the id "${c.req.param("id")}".`);
    return respond(c, found.title, found.body, "/executions");
  });
  app.get("/executions/:id/live", async (c) => {
    const live = await executionLive(source, c.req.param("id"));
    if (!live) return c.html(html`<p>No such execution.</p>`, 404);
    return c.html(live.body);
  });
  app.get("/executions/:id/events", (c) => {
    const id = c.req.param("id");
    return liveEvents(c, async () => {
      const e = await getExecution(source.db, id);
      return {
        signature: JSON.stringify([e?.status, e?.jobCounts, e?.updatedTime]),
        finished: !e || e.status !== "RUNNING",
      };
    });
  });
  app.get("/executions/:id/graph", async (c) => {
    const id = await resolve(c.req.param("id"), "execution");
    const execution = id && (await getExecution(source.db, id));
    if (!id || !execution) return notFound(c, `No execution has the id "${c.req.param("id")}".`);
    const body = html`<h1>
        Dataflow of execution
        <a class="mono" href="${links.execution(id)}">${id}</a>
      </h1>
      ${await callGraphSvg(source, id)}`;
    return respond(c, `Graph ${id.slice(0, 8)}`, body, "/executions");
  });

  const recordPage =
    (
      kind: "job" | "call_node" | "value",
      label: string,
      render: (id: string) => Promise<{ title: string; body: Html } | undefined>,
    ) =>
    async (c: Context) => {
      const given = c.req.param("id") ?? "";
      const id = await resolve(given, kind);
      const found = id && (await render(id));
      if (!found) return notFound(c, `No ${label} has the id "${given}".`);
      return respond(c, found.title, found.body);
    };
  app.get(
    "/jobs/:id",
    recordPage("job", "job", (id) => jobPage(source, id)),
  );
  app.get(
    "/calls/:id",
    recordPage("call_node", "call", (id) => callPage(source, id)),
  );
  app.get(
    "/values/:id",
    recordPage("value", "value", (id) => valuePage(source, id)),
  );

  app.get("/files", async (c) => {
    const path = c.req.query("path");
    if (!path)
      return respond(c, "Files", await filesPage(source, c.req.query("q") ?? ""), "/files");
    const found = await fileLineagePage(source, path);
    if (!found) return notFound(c, `No file at "${path}" is recorded.`);
    return respond(c, found.title, found.body, "/files");
  });
  app.get("/tasks", async (c) =>
    respond(c, "Tasks", await tasksPage(source.db, c.req.query("q") ?? ""), "/tasks"),
  );
  app.get("/tasks/:name", async (c) => {
    const name = c.req.param("name");
    const found = await taskPage(source.db, name, { a: c.req.query("a"), b: c.req.query("b") });
    if (!found) return notFound(c, `No task is named "${name}".`);
    return respond(c, found.title, found.body, "/tasks");
  });

  /** `/find?id=…`: whatever `redun log` would take. */
  app.get("/find", async (c) => {
    const given = (c.req.query("id") ?? "").trim();
    if (!given) return c.redirect("/executions");
    if (given.startsWith("/") || /^[a-z0-9]+:\/\//i.test(given)) {
      return c.redirect(links.file(given));
    }
    try {
      const target = await resolveId(source.db, given);
      const to = {
        execution: links.execution,
        job: links.job,
        call_node: links.call,
        value: links.value,
      }[target.type](target.id);
      return c.redirect(to);
    } catch (error) {
      if (!(error instanceof IdLookupError)) throw error;
      const tasks = await taskPage(source.db, given, {});
      if (tasks) return c.redirect(links.task(given));
      return notFound(c, error.message);
    }
  });

  /** A full id, or the record an unambiguous prefix names; undefined when none. */
  async function resolve(
    id: string,
    kind: "execution" | "job" | "call_node" | "value",
  ): Promise<string | undefined> {
    try {
      return (await resolveId(source.db, id, [kind])).id;
    } catch (error) {
      if (error instanceof IdLookupError) return undefined;
      throw error;
    }
  }

  app.notFound((c) => notFound(c, `There is no page at ${c.req.path}.`));
  app.onError((error, c) => {
    const database = isDatabaseError(error);
    if (!database)
      console.error(`redun server: ${c.req.method} ${c.req.path}: ${safeMessage(error)}`);
    return respond(
      c,
      database ? "Database unreachable" : "Error",
      html`<div class="error-page" id="server-error">
        <h1>${database ? "The database cannot be read" : "Something went wrong"}</h1>
        <p>${database ? `${ctx.location}: ${safeMessage(error)}` : safeMessage(error)}</p>
        <p class="muted">
          ${
            database
              ? "Is the database server running and reachable from here? Reload the page to try again."
              : "The server is still running: other pages work."
          }
        </p>
      </div>`,
      undefined,
      database ? 503 : 500,
    );
  });
  return app;
}
