/**
 * The value store and value size limits: values of at least value_store_min_size bytes
 * are files named by their hash (a local directory, or S3 served by a real moto_server),
 * the database row holds format "ref" and no bytes, and later runs replay them from
 * there. A value over max_value_size fails its job with a clear message.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  ListObjectsV2Command,
  S3Client,
} from "@aws-sdk/client-s3";
import { countRuns, jobTotals } from "./helpers/cli.ts";
import { FLOW, json, useBackendProjects, type Project } from "./helpers/backend.ts";
import { motoAvailable, startMoto, type Moto } from "./helpers/moto.ts";

const DIALECTS = ["sqlite", "postgresql"] as const;
const BIG = 5000;

interface ValueRow {
  value_hash: string;
  format: string;
  size: number | string;
}

async function valueRows(p: Project): Promise<ValueRow[]> {
  return p.query<ValueRow>(
    "SELECT value_hash, format, length(value) AS size FROM value ORDER BY value_hash",
  );
}

describe("value store and max_value_size", () => {
  const backends = useBackendProjects();
  const project = backends.project;

  for (const dialect of DIALECTS) {
    test(`${dialect}: big values go to a local value store and are replayed from it`, async () => {
      const p = await project(dialect, "value_store_path = values\nvalue_store_min_size = 1000\n");
      const store = path.join(p.dir, ".redun", "values");
      const first = p.redun(["run", FLOW, "bigLength", "--n", String(BIG)]);
      assert.equal(first.code, 0, first.stderr);
      assert.equal(first.stdout.trim(), `{ length: ${BIG}, small: 9 }`);

      const refs = (await valueRows(p)).filter((r) => r.format === "ref");
      assert.equal(refs.length, 1, "one big value (the string), recorded once");
      assert.equal(Number(refs[0]!.size), 0, "a ref row holds no bytes");
      const hash = refs[0]!.value_hash;
      const file = path.join(store, hash.slice(0, 2), hash);
      assert.ok(fs.statSync(file).size > BIG, "the bytes are in the store, named by the hash");
      const inline = (await valueRows(p)).filter((r) => r.format !== "ref");
      assert.ok(inline.length > 0);
      assert.ok(
        inline.every((r) => Number(r.size) < 1000),
        "small values stay in the database",
      );

      const second = p.redun(["run", FLOW, "bigLength", "--n", String(BIG)]);
      assert.equal(second.code, 0, second.stderr);
      assert.equal(second.stdout.trim(), `{ length: ${BIG}, small: 9 }`);
      assert.equal(
        jobTotals(second.stderr).DONE,
        0,
        "everything replayed, the big value from the store",
      );
      assert.deepEqual(countRuns(p.dir).sort(), ["big", "bigLength", "measure", "square"]);

      const shown = json(p.redun(["log", hash, "--format", "json"]));
      assert.equal(shown.value.format, "ref");
      assert.equal(shown.value.size, BIG + 2);
      assert.equal(shown.value.value, "x".repeat(BIG));
      assert.deepEqual(
        shown.provenance.producedBy.map((c: any) => c.taskName),
        ["backend_flow.big"],
      );

      // Without its file, the cached value is a miss: big runs again and restores it.
      fs.rmSync(store, { recursive: true, force: true });
      const third = p.redun(["run", FLOW, "bigLength", "--n", String(BIG)]);
      assert.equal(third.code, 0, third.stderr);
      assert.equal(third.stdout.trim(), `{ length: ${BIG}, small: 9 }`);
      assert.deepEqual(countRuns(p.dir).slice(4), ["big"]);
      assert.ok(fs.existsSync(file));
    });

    test(`${dialect}: a value over max_value_size fails its job clearly`, async () => {
      const p = await project(dialect, "max_value_size = 2000\n");
      const result = p.redun(["run", FLOW, "bigAndSmall", "--n", String(BIG)]);
      assert.equal(result.code, 1);
      const lines = result.stderr.split("\n").filter((l) => l && !l.startsWith("[redun]"));
      assert.deepEqual(lines, [
        `redun: task "backend_flow.big" failed (job ${lines[0]?.match(/job ([0-9a-f]{8})/)?.[1]}): ` +
          `ValueTooLargeError: the result of task "backend_flow.big" is ${BIG + 2} bytes, ` +
          `larger than max_value_size (2000 bytes, [backend] in redun.ini)`,
      ]);
      assert.equal(jobTotals(result.stderr).FAILED, 2, "big, and bigAndSmall above it");

      const jobs = await p.query<{ fullname: string; status: string }>(
        "SELECT task.fullname, job.status FROM job JOIN task ON task.hash = job.task_hash ORDER BY task.fullname",
      );
      assert.deepEqual(
        jobs.map((j) => [j.fullname, j.status]),
        [
          ["backend_flow.big", "FAILED"],
          ["backend_flow.bigAndSmall", "FAILED"],
          ["backend_flow.square", "DONE"],
        ],
      );
      const sizes = (await valueRows(p)).map((r) => Number(r.size));
      assert.ok(Math.max(...sizes) <= 2000, `no row over the limit: ${sizes}`);
      const log = json(p.redun(["log", "--format", "json"]));
      assert.equal(log.executions[0].status, "FAILED");

      const small = p.redun(["run", FLOW, "bigAndSmall", "--n", "10"]);
      assert.equal(small.code, 0, small.stderr);
      assert.equal(small.stdout.trim(), "[ 16, 'xxxxxxxxxx' ]");
      assert.equal(jobTotals(small.stderr).CACHED, 1, "square(4), recorded by the failed run");
    });
  }

  describe("on S3", { skip: !motoAvailable() && "moto_server is not installed" }, () => {
    let moto: Moto;
    let s3: S3Client;
    before(async () => {
      moto = await startMoto();
      s3 = new S3Client({
        endpoint: moto.endpoint,
        region: "us-east-1",
        forcePathStyle: true,
        credentials: { accessKeyId: "testing", secretAccessKey: "testing" },
      });
      await s3.send(new CreateBucketCommand({ Bucket: "redun-values" }));
    });
    after(async () => {
      s3?.destroy();
      await moto?.stop();
    });

    for (const dialect of DIALECTS) {
      test(`${dialect}: big values go to an s3:// value store and are replayed from it`, async () => {
        // A prefix per dialect: each test starts with an empty store.
        const prefix = `store-${dialect}/`;
        const p = await project(
          dialect,
          `value_store_path = s3://redun-values/${prefix}\nvalue_store_min_size = 1000\n`,
        );
        const env = moto.env;
        const keys = async () =>
          (
            (await s3.send(new ListObjectsV2Command({ Bucket: "redun-values", Prefix: prefix })))
              .Contents ?? []
          ).map((o) => [o.Key, o.Size]);

        const first = p.redun(["run", FLOW, "bigLength", "--n", String(BIG)], env);
        assert.equal(first.code, 0, first.stderr);
        assert.equal(first.stdout.trim(), `{ length: ${BIG}, small: 9 }`);
        const refs = (await valueRows(p)).filter((r) => r.format === "ref");
        assert.equal(refs.length, 1);
        assert.equal(Number(refs[0]!.size), 0);
        const key = `${prefix}${refs[0]!.value_hash}`;
        assert.deepEqual(await keys(), [[key, BIG + 2]]);

        const second = p.redun(["run", FLOW, "bigLength", "--n", String(BIG)], env);
        assert.equal(second.code, 0, second.stderr);
        assert.equal(second.stdout.trim(), `{ length: ${BIG}, small: 9 }`);
        assert.equal(jobTotals(second.stderr).DONE, 0);

        await s3.send(new DeleteObjectCommand({ Bucket: "redun-values", Key: key }));
        const third = p.redun(["run", FLOW, "bigLength", "--n", String(BIG)], env);
        assert.equal(third.code, 0, third.stderr);
        assert.deepEqual(
          countRuns(p.dir).slice(4),
          ["big"],
          "only the missing value was made again",
        );
        assert.deepEqual(await keys(), [[key, BIG + 2]]);
      });
    }
  });
});
