/**
 * `redun launch` on AWS Batch, fire and forget: moto_server's Batch runs the launched
 * `redun run` as a real container (test/helpers/moto-batch.ts). The run records itself in a
 * PostgreSQL database the container reaches over the host network, logging in with an AWS
 * Secrets Manager secret (`db_aws_secret_name`, in moto) as a Batch job would: the
 * launcher returns at once with the execution id, the Batch job id and how to follow them,
 * and the execution later appears DONE in the database.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { DescribeJobsCommand } from "@aws-sdk/client-batch";
import { CreateSecretCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { makeProject, redun } from "./helpers/cli.ts";
import { createTestDatabase, type TestDatabase } from "./helpers/dialects.ts";
import { DockerUnavailableError } from "./helpers/docker.ts";
import { motoAvailable } from "./helpers/moto.ts";
import { startMotoBatch, type MotoBatch } from "./helpers/moto-batch.ts";

const FLOW = fs.readFileSync(
  path.resolve(import.meta.dirname, "fixtures/workflows/subrun-flow.ts"),
  "utf8",
);
const SECRET = "redun-launch-test-db";

/** Polls `fn` until it returns a value (the launched run creates the tables itself). */
async function until<T>(what: string, fn: () => Promise<T | undefined>): Promise<T> {
  for (let i = 0; i < 600; i++) {
    const value = await fn().catch(() => undefined);
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe("redun launch on AWS Batch (moto_server, jobs in Docker)", () => {
  let env: MotoBatch | undefined;
  let pg: TestDatabase | undefined;
  let dir = "";
  let skip: string | undefined;

  before(async () => {
    if (!motoAvailable()) {
      skip = "moto_server is not installed";
      return;
    }
    try {
      env = await startMotoBatch();
    } catch (error) {
      if (!(error instanceof DockerUnavailableError)) throw error;
      skip = `Docker is unavailable: ${error.message.split("\n")[0]}`;
      process.stderr.write(`\n!!! SKIPPING AWS BATCH LAUNCH TESTS: ${error.message}\n\n`);
      return;
    }
    dir = makeProject({ "flow.ts": FLOW, "package.json": JSON.stringify({ type: "module" }) });
    pg = await createTestDatabase("postgresql", dir);
    // The login travels as Batch jobs get theirs: in a Secrets Manager secret.
    const url = new URL(pg.uri);
    const secrets = new SecretsManagerClient({
      endpoint: env.moto.endpoint,
      region: "us-east-1",
      credentials: { accessKeyId: "testing", secretAccessKey: "testing" },
    });
    try {
      await secrets.send(
        new CreateSecretCommand({
          Name: SECRET,
          SecretString: JSON.stringify({
            engine: "postgres",
            host: url.hostname,
            port: Number(url.port),
            dbname: url.pathname.slice(1),
            username: pg.env.REDUN_DB_USERNAME,
            password: pg.env.REDUN_DB_PASSWORD,
          }),
        }),
      );
    } finally {
      secrets.destroy();
    }
    fs.mkdirSync(path.join(dir, ".redun"), { recursive: true });
    fs.writeFileSync(
      path.join(dir, ".redun", "redun.ini"),
      `[backend]
db_uri = ${pg.uri}
db_aws_secret_name = ${SECRET}
automigrate = true

[scheduler]
job_status_interval = 0
ignore_warnings = namespace

[executors.batch]
type = aws_batch
image = ${env.image}
queue = ${env.queue}
s3_scratch = s3://${env.bucket}/scratch/
role = ${env.roleArn}
job_name_prefix = redun-launch
job_monitor_interval = 0.5
`,
    );
  });

  after(async () => {
    await pg?.close();
    await env?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  test("without --wait: returns the ids at once; the run records itself DONE", async (t) => {
    if (skip) return t.skip(skip);
    const r = redun(
      dir,
      ["launch", "--executor", "batch", "--", "redun", "run", "flow.ts", "sumSquares", "--n", "3"],
      env!.env,
    );
    assert.equal(r.code, 0, r.stderr);
    const match =
      /^launched execution (\S+) on executor "batch" \(AWS Batch job (\S+), (\w+)\)\nfollow it: redun log \1 {2}\(or: aws batch describe-jobs --jobs \2\)$/m.exec(
        r.stdout,
      );
    assert.ok(match, r.stdout);
    const [, executionId, batchJobId] = match;

    // The launcher is gone; the Batch job it submitted runs on and succeeds.
    const job = await until("the Batch job to finish", async () => {
      const { jobs = [] } = await env!.batch.send(new DescribeJobsCommand({ jobs: [batchJobId!] }));
      const status = jobs[0]?.status;
      return status === "SUCCEEDED" || status === "FAILED" ? jobs[0] : undefined;
    });
    assert.equal(job.status, "SUCCEEDED", JSON.stringify(job.statusReason));

    const root = await until("the launched run's execution", async () => {
      const rows = await pg!.query(
        "SELECT j.status, t.name, e.args FROM execution e JOIN job j ON j.id = e.job_id " +
          "JOIN task t ON t.hash = j.task_hash WHERE e.id = ?",
        executionId,
      );
      return rows[0]?.status === "DONE" ? rows[0] : undefined;
    });
    assert.equal(root.name, "sumSquares");
    assert.match(String(root.args), /sumSquares/);
    const squares = await pg!.query(
      "SELECT count(*) AS n FROM job j JOIN task t ON t.hash = j.task_hash " +
        "WHERE j.execution_id = ? AND t.name = 'square' AND j.status = 'DONE'",
      executionId,
    );
    assert.equal(squares[0]!.n, 3);
    const results = await pg!.query<{ n: number }>(
      "SELECT count(*) AS n FROM call_node c JOIN job j ON j.call_hash = c.call_hash WHERE j.id = " +
        "(SELECT job_id FROM execution WHERE id = ?)",
      executionId,
    );
    assert.equal(results[0]!.n, 1, "the root call and its result are recorded");
  });
});
