/**
 * The `redun server` command itself: it refuses to start (one line, exit 1) without a
 * configuration or a database, and then creates nothing; a bad port is a usage error;
 * another host than 127.0.0.1 prints a warning; `redun --help` lists it.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { describe, test } from "node:test";
import { makeProject, redun, writeFile } from "./helpers/cli.ts";
import { startServer } from "./helpers/browser.ts";

describe("redun server: the command", () => {
  test("no configuration: one line, exit 1, and no .redun/ created", () => {
    const dir = makeProject({});
    try {
      const r = redun(dir, ["server", "--port", "0"]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /^redun: error: no redun configuration here: .*--config DIR\)\n$/);
      assert.equal(fs.existsSync(path.join(dir, ".redun")), false);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test("no database yet: one line, exit 1, and no database file created", () => {
    const dir = makeProject({});
    try {
      writeFile(dir, ".redun/redun.ini", "[backend]\ndb_uri = sqlite:///redun.db\n");
      const r = redun(dir, ["server", "--port", "0"]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /^redun: error: no database at .*redun\.db: nothing recorded yet/);
      assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
      assert.deepEqual(fs.readdirSync(path.join(dir, ".redun")), ["redun.ini"]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test("a bad port is a usage error; --help lists the command", () => {
    const dir = makeProject({});
    try {
      const r = redun(dir, ["server", "--port", "http"]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /--port expects a port number \(0-65535\), got "http"/);
      assert.match(redun(dir, ["--help"]).stdout, /^\s+server \[options\]\s+serve a web UI/m);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test("another host than 127.0.0.1 serves with a warning", async () => {
    const dir = makeProject({});
    try {
      const init = redun(dir, ["init"]);
      assert.equal(init.code, 0, init.stderr);
      const server = await startServer(dir, {}, ["--host", "0.0.0.0"]);
      try {
        assert.match(server.output().stderr, /warning: listening on 0\.0\.0\.0, reachable from/);
        const port = new URL(server.url).port;
        const response = await fetch(`http://127.0.0.1:${port}/executions`);
        assert.equal(response.status, 200);
        assert.match(await response.text(), /No executions recorded yet/);
      } finally {
        await server.stop();
      }
      const local = await startServer(dir);
      try {
        assert.match(local.url, /^http:\/\/127\.0\.0\.1:\d+$/);
        assert.equal(local.output().stderr, "");
      } finally {
        await local.stop();
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
