/**
 * `redun server` over PostgreSQL, in a real browser: the pages load without console errors
 * and a failed job shows its error; the database's credentials (given to the server in its
 * environment) appear on no page; while the database is down, a page is a clear 503 error
 * page (the server keeps running and recovers when the database is back), and starting the
 * server fails with one line.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { Browser } from "playwright-core";
import { useBackendProjects, type Project } from "./helpers/backend.ts";
import { writeFile } from "./helpers/cli.ts";
import {
  launchBrowser,
  newPage,
  startServer,
  UI_WORKFLOW,
  type ServerProcess,
} from "./helpers/browser.ts";

interface JobJson {
  id: string;
  call: string;
  children: JobJson[];
}

describe("[postgresql] redun server: the web UI in a browser", () => {
  const backends = useBackendProjects();
  let p: Project;
  let server: ServerProcess;
  let browser: Browser;
  const ids = { main: "", failed: "", boomJob: "" };

  before(async () => {
    p = await backends.project("postgresql");
    writeFile(p.dir, "wf.ts", UI_WORKFLOW);
    const ok = p.redun(["run", "wf.ts", "main", "--x", "1", "--text", "hi"]);
    assert.equal(ok.code, 0, ok.stderr);
    const failed = p.redun(["run", "wf.ts", "failing", "--x", "5"]);
    assert.equal(failed.code, 1, failed.stderr);
    const log = (id: string) =>
      JSON.parse(p.redun(["log", id, "--format", "json"]).stdout) as {
        execution: { id: string };
        jobs: JobJson[];
      };
    ids.failed = log("-").execution.id;
    ids.main = log("~2").execution.id;
    const all = (jobs: JobJson[]): JobJson[] => jobs.flatMap((j) => [j, ...all(j.children)]);
    ids.boomJob = all(log("-").jobs).find((j) => j.call.startsWith("ui.boom"))!.id;
    server = await startServer(p.dir, p.env);
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  const pages = () => [
    "/executions",
    `/executions/${ids.main}`,
    `/executions/${ids.main}/graph`,
    `/executions/${ids.failed}`,
    `/jobs/${ids.boomJob}`,
    "/tasks",
    "/tasks/ui.mid",
    "/files",
  ];

  test("pages load without console errors; a failed job shows its error", async () => {
    const { page, errors } = await newPage(browser);
    for (const url of pages()) {
      const response = await page.goto(server.url + url);
      assert.equal(response?.status(), 200, url);
    }
    await page.goto(`${server.url}/jobs/${ids.boomJob}`);
    assert.match(await page.locator("#error").innerText(), /x is too big: 5/);
    await page.goto(`${server.url}/executions/${ids.main}`);
    assert.match(await page.locator("#job-tree").innerText(), /ui\.main\(x=1, text='hi'\)/);
    assert.deepEqual(errors, []);
  });

  test("the database's credentials appear on no page", async () => {
    const { REDUN_DB_PASSWORD: password, REDUN_DB_USERNAME: user } = p.env;
    assert.ok(password && user, "the server logs in with credentials from its environment");
    for (const url of pages()) {
      const text = await (await fetch(server.url + url)).text();
      assert.ok(!text.includes(password), `${url} shows the password`);
      assert.ok(!text.includes(`${user}@`) && !text.includes(`${user}:`), `${url} shows the user`);
    }
    const text = await (await fetch(`${server.url}/executions`)).text();
    assert.match(text, /database postgresql:\/\/127\.0\.0\.1:\d+\/\w+ · read-only/);
  });

  test("an unreachable database is an error page; starting the server then fails", async (t) => {
    const outage = backends.pg.outage;
    if (!outage) return t.skip("REDUN_TEST_PG: a server this test cannot stop");
    await outage.down();
    try {
      const response = await fetch(`${server.url}/executions`);
      assert.equal(response.status, 503);
      const text = await response.text();
      assert.match(text, /The database cannot be read/);
      assert.ok(!text.includes(p.env.REDUN_DB_PASSWORD!));
      const start = p.redun(["server", "--port", "0"]);
      assert.equal(start.code, 1);
      assert.match(start.stderr, /^redun: error: .*postgresql:\/\/127\.0\.0\.1/);
      assert.equal(start.stderr.trim().split("\n").length, 1, start.stderr);
    } finally {
      await outage.up();
    }
    // The pool connects again once the database is back.
    let status = 0;
    for (let i = 0; i < 60 && status !== 200; i++) {
      status = (await fetch(`${server.url}/executions`)).status;
      if (status !== 200) await new Promise((resolve) => setTimeout(resolve, 500));
    }
    assert.equal(status, 200);
  });
});
