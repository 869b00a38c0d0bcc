/**
 * `redun server` in a real browser (headless Chromium from Debian's package) over a SQLite
 * database filled by real `redun run`s: the pages load without console errors, the job tree
 * expands, a failed job shows its error and traceback, "why it ran" names the changed
 * argument after a rerun with a new value, a `<script>` in a value shows as text and never
 * runs, a run in progress updates the page without a reload, and a bad id is a 404 page.
 *
 * With REDUN_SCREENSHOTS=1 it also saves the screenshots of the README (docs/server-*.png).
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import type { Browser, Page } from "playwright-core";
import { makeBackendProject, type Project } from "./helpers/backend.ts";
import { REPO, startRedun, writeFile } from "./helpers/cli.ts";
import {
  launchBrowser,
  newPage,
  startServer,
  UI_WORKFLOW,
  type ServerProcess,
  type WatchedPage,
} from "./helpers/browser.ts";

const XSS = `<script>window.__xss = 1; alert("xss")</script>`;
const SCREENSHOTS = process.env.REDUN_SCREENSHOTS === "1";

interface JobJson {
  id: string;
  call: string;
  status: string;
  children: JobJson[];
}

describe("[sqlite] redun server: the web UI in a browser", () => {
  let p: Project;
  let server: ServerProcess;
  let browser: Browser;
  let watched: WatchedPage;
  let page: Page;
  const ids = { first: "", second: "", failed: "" };

  const run = (...args: string[]) => {
    const r = p.redun(["run", "wf.ts", ...args]);
    assert.equal(r.code, 0, r.stderr);
  };
  const latest = () => {
    const r = p.redun(["log", "-", "--format", "json"]);
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout) as { execution: { id: string }; jobs: JobJson[] };
  };
  const allJobs = (jobs: JobJson[]): JobJson[] => jobs.flatMap((j) => [j, ...allJobs(j.children)]);
  const jobOf = (jobs: JobJson[], call: string) => {
    const job = allJobs(jobs).find((j) => j.call.startsWith(call));
    assert.ok(job, `a job ${call} in ${allJobs(jobs).map((j) => j.call)}`);
    return job;
  };
  /** Opens a page and checks it loaded (status 200) without errors. */
  const open = async (url: string, shot?: string) => {
    const response = await page.goto(server.url + url);
    assert.equal(response?.status(), 200, `${url}: ${response?.status()}`);
    assert.deepEqual(watched.errors, [], `console errors on ${url}`);
    if (shot && SCREENSHOTS)
      await page.screenshot({
        path: path.join(REPO, "docs", `server-${shot}.png`),
        fullPage: true,
      });
  };

  before(async () => {
    p = await makeBackendProject(undefined);
    writeFile(p.dir, "wf.ts", UI_WORKFLOW);
    run("main", "--x", "1", "--text", XSS);
    ids.first = latest().execution.id;
    run("main", "--x", "2", "--text", XSS);
    ids.second = latest().execution.id;
    const failed = p.redun(["run", "wf.ts", "failing", "--x", "5"]);
    assert.equal(failed.code, 1, failed.stderr);
    ids.failed = latest().execution.id;
    server = await startServer(p.dir, p.env);
    browser = await launchBrowser();
    watched = await newPage(browser);
    page = watched.page;
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
    if (p) fs.rmSync(p.dir, { recursive: true, force: true });
  });

  test("every page loads without console errors", async () => {
    const { jobs } = latest();
    const boom = jobOf(jobs, "ui.boom");
    await open("/executions", "executions");
    assert.equal(await page.locator("table.executions tbody tr").count(), 3);
    await open(`/executions/${ids.second}`, "execution");
    await open(`/executions/${ids.second}/graph`, "graph");
    assert.ok((await page.locator(".graph a.node").count()) >= 5, "a node per call");
    assert.ok((await page.locator(".graph path.data").count()) >= 1, "dataflow edges");
    await open(`/jobs/${boom.id}`);
    await open("/tasks");
    await open("/tasks/ui.mid");
    await open("/files");
    await page.goto(`${server.url}/executions/${ids.second}`);
    await page.locator("#job-tree a.id").first().click();
    await page.waitForURL(/\/jobs\//);
    await page.locator("table.arguments a.id").first().click();
    await page.waitForURL(/\/values\//);
    assert.match(await page.locator("#value").innerText(), /\S/);
    assert.deepEqual(watched.errors, []);
  });

  test("the job tree expands", async () => {
    await open(`/executions/${ids.second}`);
    const mid = page.locator("#job-tree details details").first();
    const leaf = mid.locator(".leaf").first();
    assert.match(await mid.locator("summary").innerText(), /ui\.mid\(x=2\)/);
    assert.equal(await leaf.isVisible(), false, "children of a nested job start hidden");
    await mid.locator("summary .muted").last().click();
    await leaf.waitFor({ state: "visible" });
    assert.match(await leaf.innerText(), /ui\.leaf\(x=(2|20)\)/);
    await page.getByRole("button", { name: "Collapse all" }).click();
    await leaf.waitFor({ state: "hidden" });
    await page.getByRole("button", { name: "Expand all" }).click();
    await leaf.waitFor({ state: "visible" });
  });

  test("a failed job shows its error and traceback", async () => {
    await open(`/executions/${ids.failed}`);
    assert.equal(await page.locator(".summary .badge").first().innerText(), "FAILED");
    await page.locator("#job-tree .leaf", { hasText: "ui.boom" }).locator("a.id").click();
    await page.waitForURL(/\/jobs\//);
    const error = await page.locator("#error").innerText();
    assert.match(error, /^Error: x is too big: 5$/m);
    assert.match(error, /^\s+at .*boom/m, "the traceback's frames");
    assert.deepEqual(watched.errors, []);
  });

  test("why it ran names the changed argument; a replayed job says CACHED", async () => {
    const r = p.redun(["log", ids.second, "--format", "json"]);
    const jobs = (JSON.parse(r.stdout) as { jobs: JobJson[] }).jobs;
    await open(`/jobs/${jobOf(jobs, "ui.mid(x=2)").id}`, "job");
    const why = page.locator("#why");
    assert.match(await why.innerText(), /Its arguments changed: x\./);
    const changed = why.locator('tr[data-changed="x"] td');
    assert.deepEqual(await changed.allInnerTexts(), ["x", "1", "2"]);
    await open(`/jobs/${jobOf(jobs, "ui.echo").id}`);
    assert.match(await page.locator("#why").innerText(), /CACHED[\s\S]*Replayed from the cache/);
  });

  test("a <script> in a value shows as text and never runs", async () => {
    const { jobs } = JSON.parse(p.redun(["log", ids.first, "--format", "json"]).stdout) as {
      jobs: JobJson[];
    };
    const echo = jobOf(jobs, "ui.echo");
    for (const url of ["/executions", `/executions/${ids.first}`, `/jobs/${echo.id}`]) {
      await open(url);
      assert.ok((await page.locator("body").innerText()).includes(XSS), `${url} shows the text`);
    }
    await page.locator("table.arguments a.id").first().click();
    await page.waitForURL(/\/values\//);
    assert.equal(await page.locator("#value").innerText(), `'${XSS}'`);
    assert.equal(await page.evaluate(() => (globalThis as { __xss?: number }).__xss), undefined);
    assert.deepEqual(watched.dialogs, []);
    assert.deepEqual(watched.errors, []);
  });

  test("a bad id is a 404 page", async () => {
    for (const url of ["/jobs/0000000000", "/executions/nope", "/values/abc", "/no/such/page"]) {
      const response = await page.goto(server.url + url);
      assert.equal(response?.status(), 404, url);
      assert.match(await page.locator("#not-found").innerText(), /Not found/);
    }
    watched.errors.length = 0; // The browser logs each 404 document as a failed resource.
  });

  test("a run in progress updates the page without a reload", async () => {
    const gate = path.join(p.dir, "gate");
    const slow = startRedun(p.dir, ["run", "wf.ts", "slow", "--n", "3", "--gate", gate], p.env);
    try {
      let id: string | undefined;
      for (let i = 0; i < 600 && !id; i++) {
        const rows = await p.query<{ id: string; n: number }>(
          "SELECT execution_id AS id, count(*) AS n FROM job WHERE status = 'RUNNING' " +
            "GROUP BY execution_id HAVING count(*) >= 4",
        );
        id = rows[0]?.id;
        if (!id) await new Promise((resolve) => setTimeout(resolve, 100));
      }
      assert.ok(id, `the run's jobs are recorded as running: ${slow.output().stderr}`);
      await open(`/executions/${id}`, "running");
      assert.equal(await page.locator("#live .summary .badge").first().innerText(), "RUNNING");
      await page.evaluate(() => ((globalThis as { __same?: boolean }).__same = true));
      fs.writeFileSync(gate, "go");
      assert.equal((await slow.done).code, 0, slow.output().stderr);
      await page
        .locator("#live .summary .badge.done")
        .first()
        .waitFor({ state: "visible", timeout: 60_000 });
      assert.match(await page.locator("#live .summary").innerText(), /DONE 4/);
      assert.equal(
        await page.evaluate(() => (globalThis as { __same?: boolean }).__same),
        true,
        "the same page: updated in place, not reloaded",
      );
      assert.deepEqual(watched.errors, []);
    } finally {
      fs.writeFileSync(gate, "go");
      await slow.done;
    }
  });

  test("nothing was written: the database is as the runs left it", async () => {
    const before = await p.query<{ n: number }>("SELECT count(*) AS n FROM job");
    await open("/executions");
    await open(`/executions/${ids.first}/graph`);
    const after = await p.query<{ n: number }>("SELECT count(*) AS n FROM job");
    assert.deepEqual(after, before);
    const post = await fetch(`${server.url}/executions`, { method: "POST" });
    assert.equal(post.status, 405);
  });

  test("a task's versions side by side, with what changed", async () => {
    writeFile(p.dir, "wf.ts", UI_WORKFLOW.replace("leaf(x * 10)", "leaf(x * 100)"));
    run("main", "--x", "2", "--text", "v2");
    await open("/tasks/ui.mid", "task");
    assert.equal(await page.locator("table.versions-table tbody tr").count(), 2);
    const table = page.locator("table.side-by-side");
    assert.match(await table.locator("td.del").innerText(), /leaf \( x \* 10 \)/);
    assert.match(await table.locator("td.add").innerText(), /leaf \( x \* 100 \)/);
  });
});
