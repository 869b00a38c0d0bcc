/**
 * A local AWS Glue for tests. moto_server serves the Glue API (jobs, job runs) and S3, but
 * its job runs execute nothing (they go STARTING → RUNNING → SUCCEEDED on their own). So
 * this helper plays Glue's worker: an HTTP proxy in front of moto's Glue endpoint
 * (`AWS_ENDPOINT_URL_GLUE`) sees each StartJobRun, and for each run it reads the run
 * (GetJobRun: its arguments) and the job (GetJob: its script location) from moto, downloads
 * that exact launcher script from moto's S3 and runs it with python3 on this machine, with
 * the arguments Glue would give (`--JOB_RUN_ID`, `--JOB_NAME`, the run's arguments). The
 * environment of that process has no AWS settings: the launcher must find moto through
 * what the executor passed.
 *
 * While the simulated worker runs, the proxy reports the run RUNNING; after, it lets moto's
 * own state through (SUCCEEDED) if the launcher exited 0, and reports FAILED with the
 * launcher's last line (as Glue does) otherwise. Tests can also hold runs (never started
 * until released), mark a run TIMEOUT (as Glue's timeout would), and make StartJobRun
 * refuse for capacity; BatchStopJobRun, which moto does not implement (HTTP 500), is
 * recorded and passed on.
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { GetJobCommand, GetJobRunCommand, GlueClient } from "@aws-sdk/client-glue";
import { CreateBucketCommand, GetObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { freePort, startMoto, type Moto } from "./moto.ts";

/** What the simulated worker did with a run. */
export type SimulatedState = "held" | "running" | "succeeded" | "failed" | "timeout";

/** A run the executor started. */
export interface StartedRun {
  jobName: string;
  runId: string;
  request: Record<string, unknown>;
  state: SimulatedState;
  /** The launcher's output (standard output and error). */
  output: string;
  exitCode?: number | null;
  /** Resolves when the simulated worker has finished. */
  finished: Promise<void>;
}

/** A running moto with Glue's worker simulated. */
export interface MotoGlue {
  moto: Moto;
  bucket: string;
  /** For `redun run`: moto's endpoint, Glue through the proxy, fake credentials. */
  env: Record<string, string>;
  glue: GlueClient;
  s3: S3Client;
  runs: StartedRun[];
  /** CreateJob requests seen. */
  createJobs: Record<string, unknown>[];
  /** BatchStopJobRun requests seen (and moto's HTTP status for each). */
  stopRequests: { request: Record<string, unknown>; status: number }[];
  /** Runs started from now on are held (not run) until {@link release}. */
  hold(on: boolean): void;
  /** Runs every held run. */
  release(): void;
  /** The next `n` StartJobRun calls are refused with `errorType` (capacity). */
  refuseStarts(n: number, errorType?: string): void;
  /** The next run started is not run: Glue reports it TIMEOUT. */
  timeoutNext(): void;
  stop(): Promise<void>;
}

/** The folder of the stand-in `pyspark`/`awsglue` modules. */
export const STAND_IN_DIR = path.resolve(import.meta.dirname, "../fixtures/glue/stand-in");

function readBody(req: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

/** Starts moto, a bucket, and the Glue proxy with its simulated worker. */
export async function startMotoGlue(): Promise<MotoGlue> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
  const moto = await startMoto();
  const clientConfig = {
    endpoint: moto.endpoint,
    region: "us-east-1",
    credentials: { accessKeyId: "testing", secretAccessKey: "testing" },
  };
  const glue = new GlueClient(clientConfig);
  const s3 = new S3Client({ ...clientConfig, forcePathStyle: true });
  const bucket = "redun-glue-test";
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "redun-glue-worker-"));

  const runs: StartedRun[] = [];
  const byId = new Map<string, StartedRun>();
  const createJobs: Record<string, unknown>[] = [];
  const stopRequests: { request: Record<string, unknown>; status: number }[] = [];
  const held: (() => void)[] = [];
  let holding = false;
  let refusals = 0;
  let refusalType = "ConcurrentRunsExceededException";
  let timeoutNext = false;

  /** Plays Glue's worker for one run: its script, with its arguments, by python3. */
  async function work(run: StartedRun): Promise<void> {
    const { JobRun } = await glue.send(
      new GetJobRunCommand({ JobName: run.jobName, RunId: run.runId }),
    );
    const { Job } = await glue.send(new GetJobCommand({ JobName: run.jobName }));
    const location = Job!.Command!.ScriptLocation!;
    const [, scriptBucket, key] = /^s3:\/\/([^/]+)\/(.+)$/.exec(location)!;
    const object = await s3.send(new GetObjectCommand({ Bucket: scriptBucket, Key: key }));
    const script = path.join(tmp, `${run.runId}.py`);
    fs.writeFileSync(script, await object.Body!.transformToString());
    const args = [
      script,
      "--JOB_ID",
      `j_${run.runId.slice(3, 20)}`,
      "--JOB_RUN_ID",
      run.runId,
      "--JOB_NAME",
      run.jobName,
      ...Object.entries(JobRun!.Arguments ?? {}).flat(),
    ];
    await new Promise<void>((resolve) => {
      const child = spawn("python3", args, {
        cwd: tmp,
        // No AWS settings: the launcher finds moto through the run's arguments.
        env: { PATH: process.env.PATH!, HOME: tmp, TMPDIR: tmp, PYTHONPATH: STAND_IN_DIR },
        stdio: ["ignore", "pipe", "pipe"],
      });
      child.stdout.on("data", (d) => (run.output += d));
      child.stderr.on("data", (d) => (run.output += d));
      child.on("close", (code) => {
        run.exitCode = code;
        run.state = code === 0 ? "succeeded" : "failed";
        resolve();
      });
    });
  }

  function started(jobName: string, runId: string, request: Record<string, unknown>): void {
    let done!: () => void;
    const run: StartedRun = {
      jobName,
      runId,
      request,
      state: "running",
      output: "",
      finished: new Promise<void>((r) => (done = r)),
    };
    runs.push(run);
    byId.set(runId, run);
    if (timeoutNext) {
      timeoutNext = false;
      run.state = "timeout";
      done();
      return;
    }
    const go = () => {
      run.state = "running";
      work(run)
        .catch((error: Error) => {
          run.output += `\n(simulated worker) ${error.message}`;
          run.state = "failed";
        })
        .finally(done);
    };
    if (holding) {
      run.state = "held";
      held.push(go);
    } else go();
  }

  /** Glue's account of a run, given what the simulated worker did. */
  function rewriteRun(jobRun: Record<string, unknown>): void {
    const run = byId.get(String(jobRun.Id));
    if (!run) return;
    if (run.state === "held" || run.state === "running") jobRun.JobRunState = "RUNNING";
    else if (run.state === "timeout") {
      jobRun.JobRunState = "TIMEOUT";
      jobRun.ErrorMessage = "Job run timed out (simulated by the test's Glue proxy)";
    } else if (run.state === "failed") {
      jobRun.JobRunState = "FAILED";
      const lines = run.output.trim().split("\n");
      jobRun.ErrorMessage = lines[lines.length - 1];
    }
  }

  const server = http.createServer((req, res) => {
    void (async () => {
      const body = await readBody(req);
      const target = String(req.headers["x-amz-target"] ?? "");
      const action = target.replace(/^AWSGlue\./, "");
      const request = body.length
        ? (JSON.parse(body.toString("utf8")) as Record<string, unknown>)
        : {};
      if (action === "StartJobRun" && refusals > 0) {
        refusals--;
        res.writeHead(400, {
          "content-type": "application/x-amz-json-1.1",
          "x-amzn-errortype": refusalType,
        });
        res.end(JSON.stringify({ __type: refusalType, Message: "simulated: no capacity now" }));
        return;
      }
      const headers = { ...req.headers };
      delete headers.host;
      const upstream = await fetch(`${moto.endpoint}${req.url}`, {
        method: req.method,
        headers: headers as Record<string, string>,
        body: req.method === "GET" || req.method === "HEAD" ? undefined : body,
      });
      let text = await upstream.text();
      if (action === "CreateJob") createJobs.push(request);
      if (action === "BatchStopJobRun") stopRequests.push({ request, status: upstream.status });
      if (upstream.ok && action === "StartJobRun") {
        started(String(request.JobName), String(JSON.parse(text).JobRunId), request);
      }
      if (upstream.ok && (action === "GetJobRun" || action === "GetJobRuns")) {
        const data = JSON.parse(text) as {
          JobRun?: Record<string, unknown>;
          JobRuns?: Record<string, unknown>[];
        };
        if (data.JobRun) rewriteRun(data.JobRun);
        for (const r of data.JobRuns ?? []) rewriteRun(r);
        text = JSON.stringify(data);
      }
      const out: Record<string, string> = {};
      upstream.headers.forEach((value, name) => {
        if (!["content-length", "content-encoding", "transfer-encoding"].includes(name)) {
          out[name] = value;
        }
      });
      res.writeHead(upstream.status, out);
      res.end(text);
    })().catch((error: Error) => {
      res.writeHead(502);
      res.end(error.message);
    });
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));

  return {
    moto,
    bucket,
    env: { ...moto.env, AWS_ENDPOINT_URL_GLUE: `http://127.0.0.1:${port}` },
    glue,
    s3,
    runs,
    createJobs,
    stopRequests,
    hold: (on) => (holding = on),
    release: () => held.splice(0).forEach((go) => go()),
    refuseStarts: (n, errorType = "ConcurrentRunsExceededException") => {
      refusals = n;
      refusalType = errorType;
    },
    timeoutNext: () => (timeoutNext = true),
    stop: async () => {
      await Promise.all(runs.map((r) => (r.state === "held" ? undefined : r.finished)));
      server.close();
      glue.destroy();
      s3.destroy();
      await moto.stop();
      fs.rmSync(tmp, { recursive: true, force: true });
    },
  };
}
