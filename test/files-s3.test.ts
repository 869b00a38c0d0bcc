/**
 * `s3://` files against a real moto_server on 127.0.0.1: the File / Dir API, ETag hashes,
 * streaming of large files (multipart upload, chunked download), the endpoint settings, and
 * workflows whose inputs and outputs live in S3, staged by script tasks on the process and
 * thread executors. The workflows that replay from the cache run on SQLite and on PostgreSQL.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { after, before, describe, it } from "node:test";
import { CreateBucketCommand } from "@aws-sdk/client-s3";
import { Dir, File, FileNotFoundError, glob } from "../src/index.ts";
import { configureS3 } from "../src/files/index.ts";
import { contentHash } from "../src/files/filesystem.ts";
import { s3FileSystem } from "../src/files/s3.ts";
import { lines, tempDir, type Mode } from "./helpers/engine.ts";
import { forEachDialect, withDialectEnv, type DialectName } from "./helpers/dialects.ts";
import { motoAvailable, startMoto, type Moto } from "./helpers/moto.ts";
import * as wf from "./fixtures/workflows/files-flow.ts";

const MiB = 1024 * 1024;
const BUCKET = "redun-files-test";

describe(
  "S3 files (moto_server)",
  { skip: !motoAvailable() && "moto_server is not installed" },
  () => {
    let moto: Moto;
    const saved: Record<string, string | undefined> = {};
    let bucketCount = 0;

    /** A fresh bucket, so tests do not see each other's objects. */
    async function newBucket(): Promise<string> {
      const name = `${BUCKET}-${++bucketCount}`;
      await (await s3FileSystem.client()).send(new CreateBucketCommand({ Bucket: name }));
      return name;
    }

    before(async () => {
      moto = await startMoto();
      for (const key of Object.keys(moto.env)) saved[key] = process.env[key];
      // Workers (threads, processes) inherit this environment, so they reach moto too.
      Object.assign(process.env, moto.env);
    });
    after(async () => {
      for (const [key, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
      await moto?.stop();
    });

    it("reads, writes, lists, copies, touches and removes objects; hashes by ETag", async () => {
      const bucket = await newBucket();
      const file = new File(`s3://${bucket}/dir/a.txt`);
      assert.equal(await file.exists(), false);
      await assert.rejects(file.read(), FileNotFoundError);
      await assert.rejects(file.stat(), /no such file: s3:\/\/.*\/dir\/a\.txt/);

      await file.write("hello");
      assert.equal(await file.read(), "hello");
      assert.equal(await file.size(), 5);
      const stat = await file.stat();
      assert.equal(stat.etag, createHash("md5").update("hello").digest("hex"), "the S3 ETag");
      assert.equal(file.basename(), "a.txt");
      assert.equal(file.dirname(), `s3://${bucket}/dir`);

      assert.throws(
        () => new File(`s3://${bucket}/dir/a.txt`).hash,
        /has no hash yet: the s3 filesystem/,
      );
      const prepared = await new File(`s3://${bucket}/dir/a.txt`).prepare();
      const h = prepared.hash;
      assert.equal(await prepared.isValid(), true);
      await new File(`s3://${bucket}/dir/a.txt`).write("hello"); // same bytes, same ETag
      assert.equal(await prepared.isValid(), true);
      await new File(`s3://${bucket}/dir/a.txt`).write("HELLO");
      assert.equal(await prepared.isValid(), false, "new content, new ETag");
      assert.notEqual((await new File(`s3://${bucket}/dir/a.txt`).prepare()).hash, h);

      await new File(`s3://${bucket}/dir/sub/b.txt`).write("b");
      await new File(`s3://${bucket}/dir/c.csv`).write("c");
      await new File(`s3://${bucket}/other/d.txt`).write("d");
      const dir = new Dir(`s3://${bucket}/dir/`);
      assert.equal(dir.path, `s3://${bucket}/dir`);
      assert.equal(await dir.exists(), true);
      assert.equal(await new Dir(`s3://${bucket}/none`).exists(), false);
      assert.deepEqual(
        (await dir.files()).map((f) => f.path),
        [`s3://${bucket}/dir/a.txt`, `s3://${bucket}/dir/c.csv`, `s3://${bucket}/dir/sub/b.txt`],
      );
      assert.deepEqual(
        (await dir.glob("*.txt")).map((f) => f.basename()),
        ["a.txt"],
      );
      assert.deepEqual(
        (await glob(`s3://${bucket}/**/*.txt`)).map((f) => f.path),
        [`s3://${bucket}/dir/a.txt`, `s3://${bucket}/dir/sub/b.txt`, `s3://${bucket}/other/d.txt`],
      );
      assert.equal(await dir.file("sub/b.txt").read(), "b");

      const prefix = await new Dir(`s3://${bucket}/dir`).prepare();
      assert.equal(await prefix.isValid(), true);
      await new File(`s3://${bucket}/dir/new.txt`).write("new");
      assert.equal(await prefix.isValid(), false, "an object added under the prefix is a change");

      // Copies: within S3 (server side), S3 → local, local → S3; whole prefixes too.
      const copy = await file.copyTo(`s3://${bucket}/copies/a.txt`);
      assert.equal(await copy.read(), "HELLO");
      const local = tempDir();
      try {
        const down = await file.copyTo(path.join(local, "x", "a.txt"));
        assert.equal(fs.readFileSync(down.path, "utf8"), "HELLO");
        await down.write("from local");
        const up = await down.copyTo(`s3://${bucket}/up/a.txt`);
        assert.equal(await up.read(), "from local");
        const mirrored = await dir.copyTo(path.join(local, "mirror"));
        assert.equal(fs.readFileSync(path.join(local, "mirror", "sub", "b.txt"), "utf8"), "b");
        const back = await mirrored.copyTo(`s3://${bucket}/mirror`);
        assert.deepEqual(
          (await back.files()).map((f) => f.path.slice(back.path.length)),
          ["/a.txt", "/c.csv", "/new.txt", "/sub/b.txt"],
        );
      } finally {
        fs.rmSync(local, { recursive: true, force: true });
      }

      const touched = new File(`s3://${bucket}/t/empty`);
      await touched.touch();
      assert.equal(await touched.read(), "");
      await touched.touch(); // exists: rewritten in place
      assert.equal(await touched.exists(), true);

      await copy.remove();
      assert.equal(await copy.exists(), false);
      await new Dir(`s3://${bucket}/mirror`).remove();
      assert.equal(await new Dir(`s3://${bucket}/mirror`).exists(), false);

      await assert.rejects(
        new File("s3://no-such-bucket-here/x").write("x"),
        /NoSuchBucket|does not exist/,
      );
    });

    it("streams large files: multipart uploads, chunked downloads, no whole-file reads", async () => {
      const bucket = await newBucket();
      const size = 20 * MiB;
      const written = createHash("sha1");
      let produced = 0;
      /** 20 MiB made 64 KiB at a time, never held whole. */
      async function* generate(): AsyncGenerator<Buffer> {
        while (produced < size) {
          const chunk = Buffer.alloc(64 * 1024, produced % 251);
          written.update(chunk);
          produced += chunk.length;
          yield chunk;
        }
      }
      const big = new File(`s3://${bucket}/big.bin`);
      await pipeline(Readable.from(generate()), big.writeStream());
      const writtenDigest = written.digest("hex");
      const stat = await big.stat();
      assert.equal(stat.size, size);
      assert.match(stat.etag!, /-3$/, "uploaded in three 8 MiB parts (a multipart ETag)");

      const read = createHash("sha1");
      let chunks = 0;
      let largest = 0;
      for await (const chunk of big.readStream()) {
        chunks++;
        largest = Math.max(largest, (chunk as Buffer).length);
        read.update(chunk as Buffer);
      }
      assert.equal(read.digest("hex"), writtenDigest);
      assert.ok(
        chunks > 10 && largest < 4 * MiB,
        `downloaded in chunks (${chunks}, largest ${largest})`,
      );

      // S3 → local → S3 through streams; the bytes survive both ways.
      const local = tempDir();
      try {
        const down = await big.copyTo(path.join(local, "big.bin"));
        assert.equal(fs.statSync(down.path).size, size);
        const up = await down.copyTo(`s3://${bucket}/again/big.bin`);
        const again = await up.stat();
        assert.equal(again.size, size);
        assert.match(again.etag!, /-3$/, "a local file is uploaded in parts too");
        const digest = createHash("sha1");
        for await (const chunk of up.readStream()) digest.update(chunk as Buffer);
        assert.equal(digest.digest("hex"), writtenDigest);

        // A content hash of a remote file is a digest of its bytes, read as a stream.
        const byContent = new File(up.path, { hashMode: "content" });
        assert.equal((await byContent.prepare()).hash, contentHash(up.path, writtenDigest));
      } finally {
        fs.rmSync(local, { recursive: true, force: true });
      }
    });

    it("uses an endpoint given by configureS3 over the environment", async () => {
      const bucket = await newBucket();
      await new File(`s3://${bucket}/k.txt`).write("configured");
      const endpoint = process.env.AWS_ENDPOINT_URL;
      process.env.AWS_ENDPOINT_URL = "http://127.0.0.1:9"; // nothing listens there
      try {
        configureS3({ endpoint: moto.endpoint, clientConfig: { maxAttempts: 1 } });
        assert.equal(await new File(`s3://${bucket}/k.txt`).read(), "configured");
        configureS3({ clientConfig: { maxAttempts: 1 } }); // back to the (broken) environment
        await assert.rejects(new File(`s3://${bucket}/k.txt`).read(), /ECONNREFUSED|connect/);
      } finally {
        process.env.AWS_ENDPOINT_URL = endpoint;
        configureS3({});
      }
      assert.equal(await new File(`s3://${bucket}/k.txt`).read(), "configured");
    });

    // Both worker modes on SQLite, one on PostgreSQL (the database part is the same).
    const modes: [DialectName, Mode][] = [
      ["sqlite", "process"],
      ["sqlite", "thread"],
      ["postgresql", "thread"],
    ];
    for (const [dialect, mode] of modes) {
      it(`[${dialect}] a workflow with S3 inputs and outputs stages them and reruns only what changed (${mode})`, async () => {
        const bucket = await newBucket();
        await new File(`s3://${bucket}/in/a.txt`).write("alpha\n");
        await new File(`s3://${bucket}/in/b.txt`).write("bravo\n");
        await new File(`s3://${bucket}/in/c.txt`).write("charlie\n");
        await withDialectEnv(dialect, { mode }, async ({ scheduler, file }) => {
          const counter = file("runs.log");
          const out = `s3://${bucket}/out`;
          const run = () =>
            scheduler.run(wf.remotePipeline(new Dir(`s3://${bucket}/in`), out, counter));

          assert.equal(await run(), "ALPHA\nBRAVO\nCHARLIE\n");
          assert.deepEqual(lines(counter).sort(), [
            "concat",
            "upper a.txt",
            "upper b.txt",
            "upper c.txt",
          ]);
          assert.equal(
            await new File(`${out}/b.txt`).read(),
            "BRAVO\n",
            "the output was staged back",
          );
          assert.equal(scheduler.status.count("redun.script", "DONE"), 3);

          fs.rmSync(counter);
          assert.equal(await run(), "ALPHA\nBRAVO\nCHARLIE\n");
          assert.deepEqual(lines(counter), [], "everything replayed");

          // One input changes: only its script (and the merge) run again.
          await new File(`s3://${bucket}/in/b.txt`).write("bravo two\n");
          assert.equal(await run(), "ALPHA\nBRAVO TWO\nCHARLIE\n");
          assert.deepEqual(lines(counter).sort(), ["concat", "upper b.txt"]);

          // An output deleted in S3: its producer runs again and writes it back.
          fs.rmSync(counter);
          await new File(`${out}/c.txt`).remove();
          assert.equal(await run(), "ALPHA\nBRAVO TWO\nCHARLIE\n");
          assert.ok(lines(counter).includes("upper c.txt"));
          assert.ok(
            !lines(counter).includes("upper a.txt") && !lines(counter).includes("upper b.txt"),
          );
          assert.equal(await new File(`${out}/c.txt`).read(), "CHARLIE\n");
        });
      });
    }

    forEachDialect((dialect) => {
      it(`[${dialect}] stages whole S3 directories in and out (process executor)`, async () => {
        const bucket = await newBucket();
        await new File(`s3://${bucket}/src/one.txt`).write("1");
        await new File(`s3://${bucket}/src/two.txt`).write("2");
        await withDialectEnv(dialect, { mode: "process" }, async ({ scheduler }) => {
          const result = (await scheduler.run(
            wf.dirStaging(new Dir(`s3://${bucket}/src`), `s3://${bucket}/result`),
          )) as { listing: File; copy: Dir };
          assert.ok(result.listing instanceof File);
          assert.ok(result.copy instanceof Dir);
          assert.equal(await result.listing.read(), "one.txt\ntwo.txt\n");
          assert.deepEqual(
            (await result.copy.files()).map((f) => f.path),
            [
              `s3://${bucket}/result/copy/nested/extra.txt`,
              `s3://${bucket}/result/copy/one.txt`,
              `s3://${bucket}/result/copy/two.txt`,
            ],
          );
          assert.equal(await result.copy.isValid(), true, "the returned Dir carries its hash");
          await scheduler.run(
            wf.dirStaging(new Dir(`s3://${bucket}/src`), `s3://${bucket}/result`),
          );
          assert.equal(scheduler.status.count("redun.script", "CACHED"), 1);
        });
      });
    });
  },
);
