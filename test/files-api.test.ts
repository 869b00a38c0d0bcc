/**
 * The File / Dir API on local files and over HTTP (a real node:http server on 127.0.0.1),
 * hashing modes, validity, glob, and the filesystem registry with a scheme of the test's own.
 * The workflows that replay from the cache run on SQLite and on PostgreSQL.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { pathToFileURL } from "node:url";
import { after, before, describe, it } from "node:test";
import {
  Dir,
  File,
  FileNotFoundError,
  ReadOnlyFileSystemError,
  glob,
  script,
} from "../src/index.ts";
import { getFileSystem } from "../src/files/index.ts";
import { lines, tempDir, type Mode } from "./helpers/engine.ts";
import { withDialectEnv, type DialectName } from "./helpers/dialects.ts";
import * as wf from "./fixtures/workflows/files-flow.ts";

/** Workflows replayed from the cache: both worker modes on SQLite, one on PostgreSQL. */
const CACHE_MODES: [DialectName, Mode][] = [
  ["sqlite", "thread"],
  ["sqlite", "process"],
  ["postgresql", "thread"],
];

/** Sets a file's modification time to a fixed moment, `seconds` after 2001-01-01. */
function setMtime(file: string, seconds: number): void {
  const when = new Date(Date.UTC(2001, 0, 1) + seconds * 1000);
  fs.utimesSync(file, when, when);
}

describe("File on local paths", () => {
  let dir: string;
  before(() => (dir = tempDir()));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("reads, writes, streams, copies, touches and removes", async () => {
    const file = new File(path.join(dir, "sub", "a.txt"));
    assert.equal(await file.exists(), false);
    await assert.rejects(file.read(), FileNotFoundError);
    await assert.rejects(file.stat(), /no such file: .*a\.txt/);

    assert.equal(await file.write("hello\n"), file, "write returns the file");
    assert.equal(await file.exists(), true);
    assert.equal(await file.read(), "hello\n");
    assert.deepEqual(await file.readBytes(), Buffer.from("hello\n"));
    assert.equal(await file.size(), 6);
    assert.equal((await file.stat()).size, 6);
    assert.equal(file.basename(), "a.txt");
    assert.equal(file.dirname(), path.join(dir, "sub"));

    await file.write(new Uint8Array([1, 2, 3]));
    assert.deepEqual([...(await file.readBytes())], [1, 2, 3]);

    const streamed = new File(path.join(dir, "deep", "er", "s.txt"));
    await pipeline(Readable.from(["one ", "two ", "three"]), streamed.writeStream());
    let text = "";
    for await (const chunk of streamed.readStream()) text += String(chunk);
    assert.equal(text, "one two three");

    const copy = await streamed.copyTo(path.join(dir, "copies", "s.txt"));
    assert.ok(copy instanceof File);
    assert.equal(await copy.read(), "one two three");

    const touched = new File(path.join(dir, "touched", "t.txt"));
    await touched.touch();
    assert.equal(await touched.read(), "");
    setMtime(touched.path, 0);
    await touched.touch();
    assert.ok((await touched.stat()).mtimeMs! > Date.UTC(2002, 0, 1), "touch updates the mtime");

    await copy.remove();
    assert.equal(await copy.exists(), false);
    await copy.remove(); // no error for a missing file
    await assert.rejects(new File(path.join(dir, "nope")).copyTo(path.join(dir, "x")), {
      name: "FileNotFoundError",
    });

    const url = new File(pathToFileURL(path.join(dir, "deep", "er", "s.txt")).href);
    assert.equal(await url.read(), "one two three", "file:// URIs are local");
    assert.equal(url.basename(), "s.txt");
  });

  it("hashes by path, size and mtime by default, by content when asked", async () => {
    const p = path.join(dir, "h.txt");
    fs.writeFileSync(p, "abc");
    setMtime(p, 10);
    const stat = new File(p);
    const content = new File(p, { hashMode: "content" });
    const [h1, c1] = [stat.hash, content.hash];
    assert.notEqual(h1, c1);
    assert.equal(new File(p).hash, h1, "the same file hashes the same");
    assert.notEqual(new File(path.join(dir, "other.txt")).hash, h1, "the path counts");

    setMtime(p, 20); // touched: same bytes
    assert.equal(await stat.isValid(), false);
    assert.equal(await content.isValid(), true, "a content hash ignores the mtime");
    assert.notEqual(new File(p).hash, h1);
    assert.equal(new File(p, { hashMode: "content" }).hash, c1);

    fs.writeFileSync(p, "abd"); // same size, new bytes
    setMtime(p, 20);
    assert.equal(await content.isValid(), false);
    assert.notEqual(new File(p, { hashMode: "content" }).hash, c1);

    fs.rmSync(p);
    const vanished = new File(p);
    assert.equal(await vanished.exists(), false);
    assert.notEqual(vanished.hash, h1, "a missing file has a hash of its own");

    // A recorded hash stays until the file is changed through the API or invalidated.
    fs.writeFileSync(p, "abc");
    const kept = new File(p, { hash: "recorded" });
    assert.equal(kept.hash, "recorded");
    assert.equal(await kept.isValid(), false);
    assert.equal(kept.invalidate().hash, (await kept.currentHash()) as string);
  });
});

describe("Dir and glob on local paths", () => {
  let dir: string;
  before(() => {
    dir = tempDir();
    for (const [name, text] of Object.entries({
      "a.txt": "a",
      "b.txt": "bb",
      "c.csv": "c",
      ".hidden.txt": "h",
      "sub/d.txt": "d",
      "sub/deeper/e.txt": "e",
      "sub/deeper/f.csv": "f",
    })) {
      fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
      fs.writeFileSync(path.join(dir, name), text);
    }
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  const rel = (files: File[]) => files.map((f) => path.relative(dir, f.path));

  it("lists every file beneath, sorted, and builds paths inside", async () => {
    const d = new Dir(dir + "/");
    assert.equal(d.path, dir, "a trailing slash is dropped");
    assert.equal(await d.exists(), true);
    assert.equal(await new Dir(path.join(dir, "none")).exists(), false);
    assert.deepEqual(rel(await d.files()), [
      ".hidden.txt",
      "a.txt",
      "b.txt",
      "c.csv",
      "sub/d.txt",
      "sub/deeper/e.txt",
      "sub/deeper/f.csv",
    ]);
    assert.equal(await d.file("sub/d.txt").read(), "d");
    assert.deepEqual(rel(await d.dir("sub").files()), [
      "sub/d.txt",
      "sub/deeper/e.txt",
      "sub/deeper/f.csv",
    ]);
    assert.equal(d.basename(), path.basename(dir));
    assert.equal(d.dirname(), path.dirname(dir));
  });

  it("globs with *, **, ?, classes and alternatives; dotfiles only when spelled", async () => {
    const d = new Dir(dir);
    assert.deepEqual(rel(await d.glob("*.txt")), ["a.txt", "b.txt"]);
    assert.deepEqual(rel(await d.glob(".*.txt")), [".hidden.txt"]);
    assert.deepEqual(rel(await d.glob("**/*.csv")), ["c.csv", "sub/deeper/f.csv"]);
    assert.deepEqual(rel(await d.glob("sub/**")), [
      "sub/d.txt",
      "sub/deeper/e.txt",
      "sub/deeper/f.csv",
    ]);
    assert.deepEqual(rel(await d.glob("?.{txt,csv}")), ["a.txt", "b.txt", "c.csv"]);
    assert.deepEqual(rel(await d.glob("[!a].txt")), ["b.txt"]);
    assert.deepEqual(rel(await glob(`${dir}/sub/*/[ef].*`)), [
      "sub/deeper/e.txt",
      "sub/deeper/f.csv",
    ]);
    assert.deepEqual(rel(await glob(`${dir}/a.txt`)), ["a.txt"], "no wildcard: the file itself");
    assert.deepEqual(await glob(`${dir}/missing.txt`), []);
    const [first] = await d.glob("a.*");
    assert.equal(
      first!.hash,
      new File(path.join(dir, "a.txt")).hash,
      "listed files carry their hash",
    );
  });

  it("hashes every file beneath: a change, an addition or a removal is seen", async () => {
    const d = new Dir(path.join(dir, "sub"));
    const h = d.hash;
    assert.equal(new Dir(path.join(dir, "sub")).hash, h);
    assert.equal(await d.isValid(), true);

    const added = path.join(dir, "sub", "new.txt");
    fs.writeFileSync(added, "new");
    assert.equal(await d.isValid(), false);
    fs.rmSync(added);
    assert.equal(await d.isValid(), true);

    setMtime(path.join(dir, "sub", "d.txt"), 5);
    assert.equal(await d.isValid(), false);
    const byContent = new Dir(path.join(dir, "sub"), { hashMode: "content" });
    const c = byContent.hash;
    setMtime(path.join(dir, "sub", "d.txt"), 6);
    assert.equal(await byContent.isValid(), true, "content mode ignores mtimes");
    assert.equal(new Dir(path.join(dir, "sub"), { hashMode: "content" }).hash, c);
  });

  it("copies and removes whole directories", async () => {
    const target = await new Dir(path.join(dir, "sub")).copyTo(path.join(dir, "copy"));
    assert.deepEqual(rel(await target.files()), [
      "copy/d.txt",
      "copy/deeper/e.txt",
      "copy/deeper/f.csv",
    ]);
    assert.equal(await target.file("deeper/e.txt").read(), "e");
    await target.remove();
    assert.equal(fs.existsSync(path.join(dir, "copy")), false);
  });
});

describe("HTTP(S) files (read only)", () => {
  let server: http.Server;
  let base: string;
  /** What the server serves: path → body and headers; changed by the tests. */
  const served = new Map<string, { body: string; headers: Record<string, string> }>();
  let noHead = false;

  before(async () => {
    server = http.createServer((req, res) => {
      const entry = served.get(req.url!);
      if (req.method === "HEAD" && noHead) return void res.writeHead(405).end();
      if (!entry) return void res.writeHead(404).end();
      res.writeHead(200, { "content-length": Buffer.byteLength(entry.body), ...entry.headers });
      res.end(req.method === "HEAD" ? undefined : entry.body);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it("hashes by ETag, else Last-Modified, else content; isValid follows the server", async () => {
    served.set("/etag.txt", { body: "v1", headers: { etag: '"one"' } });
    served.set("/lm.txt", {
      body: "lm",
      headers: { "last-modified": new Date(Date.UTC(2020, 0, 1)).toUTCString() },
    });
    served.set("/plain.txt", { body: "plain", headers: {} });

    const etag = new File(`${base}/etag.txt`);
    assert.throws(
      () => etag.hash,
      /has no hash yet: the http filesystem .* "await file\.prepare\(\)"/,
    );
    await etag.prepare();
    const h = etag.hash;
    assert.equal(await etag.read(), "v1");
    assert.equal(await etag.size(), 2);
    assert.equal(await etag.isValid(), true);
    served.set("/etag.txt", { body: "v1", headers: { etag: '"two"' } });
    assert.equal(await etag.isValid(), false, "a new ETag is a change");
    assert.notEqual((await new File(`${base}/etag.txt`).prepare()).hash, h);

    const lm = await new File(`${base}/lm.txt`).prepare();
    assert.equal((await lm.stat()).mtimeMs, Date.UTC(2020, 0, 1));
    served.set("/lm.txt", {
      body: "lm",
      headers: { "last-modified": new Date(Date.UTC(2021, 0, 1)).toUTCString() },
    });
    assert.equal(await lm.isValid(), false, "a new Last-Modified is a change");

    const plain = await new File(`${base}/plain.txt`).prepare();
    assert.equal(await plain.isValid(), true);
    served.set("/plain.txt", { body: "PLAIN", headers: {} });
    assert.equal(await plain.isValid(), false, "without either, the bytes are hashed");

    noHead = true; // a server without HEAD: the headers of a GET
    try {
      assert.equal(await new File(`${base}/plain.txt`).size(), 5);
    } finally {
      noHead = false;
    }
  });

  it("reports missing files and refuses writes", async () => {
    const missing = new File(`${base}/missing.txt`);
    assert.equal(await missing.exists(), false);
    await assert.rejects(missing.read(), FileNotFoundError);
    const vanished = await missing.prepare();
    served.set("/missing.txt", { body: "now here", headers: { etag: '"x"' } });
    assert.equal(await vanished.isValid(), false, "appearing is a change too");

    const file = new File(`${base}/missing.txt`);
    await assert.rejects(file.write("x"), ReadOnlyFileSystemError);
    await assert.rejects(file.remove(), /cannot remove .*: the http filesystem is read-only/);
    assert.throws(() => file.writeStream(), /read-only/);
    assert.equal(file.basename(), "missing.txt");
    assert.equal(new File(`${base}/a/b.txt?x=1`).basename(), "b.txt");
    assert.equal(new File(`${base}/a/b.txt`).dirname(), `${base}/a`);

    const local = path.join(tempDir(), "fetched.txt");
    try {
      await file.copyTo(local);
      assert.equal(fs.readFileSync(local, "utf8"), "now here", "copy from HTTP to local");
    } finally {
      fs.rmSync(path.dirname(local), { recursive: true, force: true });
    }
  });

  for (const [dialect, mode] of CACHE_MODES) {
    it(`[${dialect}] a task reading an HTTP file reruns when the server's ETag changes (${mode})`, async () => {
      served.set("/data.txt", { body: "first", headers: { etag: '"1"' } });
      await withDialectEnv(dialect, { mode }, async ({ scheduler }) => {
        const url = `${base}/data.txt`;
        assert.equal(await scheduler.run(wf.readUri(url)), "first");
        assert.equal(await scheduler.run(wf.readUri(url)), "first");
        assert.equal(scheduler.status.count(wf.readText.fullname, "CACHED"), 1);

        served.set("/data.txt", { body: "second", headers: { etag: '"2"' } });
        assert.equal(await scheduler.run(wf.readUri(url)), "second");
        assert.equal(scheduler.status.count(wf.readText.fullname, "DONE"), 1);

        // A script stages an HTTP input before its command.
        const staged = await scheduler.run(
          script("cat in.txt; echo", { inputs: [new File(url).stage("in.txt")], tempDir: true }),
        );
        assert.equal(staged, "second\n");
      });
    });
  }
});

describe("the filesystem registry", () => {
  it("names the unknown scheme and the known ones", () => {
    assert.throws(
      () => getFileSystem("gs://bucket/x"),
      /no filesystem is registered for "gs:\/\/" \(in "gs:\/\/bucket\/x"\); known schemes: .*file, http, https, s3.*registerFileSystem/,
    );
    assert.throws(
      () => new File("gs://bucket/x").hash,
      /no filesystem is registered for "gs:\/\/"/,
    );
    assert.equal(getFileSystem("/x").name, "local");
    assert.equal(getFileSystem("S3://b/k").name, "s3", "schemes are case-insensitive");
  });

  for (const [dialect, mode] of CACHE_MODES) {
    it(`[${dialect}] a scheme registered by a workflow module works in workers and staging (${mode})`, async () => {
      const vault = tempDir();
      process.env.FILES_VAULT_DIR = vault;
      try {
        fs.mkdirSync(path.join(vault, "in"));
        fs.writeFileSync(path.join(vault, "in", "x.txt"), "ex\n");
        fs.writeFileSync(path.join(vault, "in", "y.txt"), "why\n");
        await withDialectEnv(dialect, { mode }, async ({ scheduler, file }) => {
          const counter = file("runs.log");
          const run = () =>
            scheduler.run(wf.remotePipeline(new Dir("vault://in"), "vault://out", counter));
          assert.equal(await run(), "EX\nWHY\n");
          assert.equal(fs.readFileSync(path.join(vault, "out", "y.txt"), "utf8"), "WHY\n");
          assert.deepEqual(lines(counter).sort(), ["concat", "upper x.txt", "upper y.txt"]);

          fs.rmSync(counter);
          assert.equal(await run(), "EX\nWHY\n");
          assert.deepEqual(lines(counter), [], "replayed: the custom ETags did not change");

          fs.writeFileSync(path.join(vault, "in", "x.txt"), "ex two\n");
          assert.equal(await run(), "EX TWO\nWHY\n");
          assert.deepEqual(lines(counter).sort(), ["concat", "upper x.txt"]);
        });
      } finally {
        delete process.env.FILES_VAULT_DIR;
        fs.rmSync(vault, { recursive: true, force: true });
      }
    });
  }
});

describe("modules that registered filesystems", () => {
  it("are real files, never Node's own module loader", async () => {
    const { fileSystemModules } = await import("../src/files/filesystem.ts");
    await import("../src/files/s3.ts");
    for (const module of fileSystemModules()) {
      assert.ok(fs.existsSync(module), `${module} is a file`);
      assert.doesNotMatch(module, /\/modules\/esm\//);
    }
  });
});
