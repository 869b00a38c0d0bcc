/**
 * A pool of workers (threads or child processes) that run one job each at a time. Workers
 * start lazily, at most a few at once, and only while jobs are waiting for one.
 */
import { fork, type ChildProcess } from "node:child_process";
import os from "node:os";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import type { RunMessage, WorkerReply } from "./protocol.ts";

const BOOTSTRAP = fileURLToPath(new URL("./worker-bootstrap.mjs", import.meta.url));

/** A worker as the pool sees it, whatever it runs on. */
interface Channel {
  send(message: RunMessage): void;
  terminate(): Promise<void>;
}

interface PoolWorker {
  channel: Channel;
  ready: boolean;
  job: Pending | undefined;
}

interface Pending {
  message: Omit<RunMessage, "id">;
  resolve(reply: WorkerReply & { type: "done" }): void;
  reject(error: Error): void;
}

/** Thread or process pool. */
export class WorkerPool {
  private readonly workers = new Set<PoolWorker>();
  private readonly queue: Pending[] = [];
  private starting = 0;
  private nextId = 1;
  private stopped = false;
  /** Starting a worker loads TypeScript support and the workflow: not more than the CPUs at once. */
  private readonly maxStarting = Math.max(1, os.availableParallelism());

  constructor(
    readonly kind: "thread" | "process",
    readonly maxWorkers: number,
  ) {}

  /** Runs a task message on some worker. */
  run(message: Omit<RunMessage, "id">): Promise<WorkerReply & { type: "done" }> {
    if (this.stopped) return Promise.reject(new Error("the worker pool is stopped"));
    return new Promise((resolve, reject) => {
      this.queue.push({ message, resolve, reject });
      this.dispatch();
    });
  }

  private dispatch(): void {
    for (const worker of this.workers) {
      if (this.queue.length === 0) return;
      if (worker.ready && !worker.job) this.assign(worker, this.queue.shift()!);
    }
    while (
      this.queue.length > this.starting &&
      this.workers.size < this.maxWorkers &&
      this.starting < this.maxStarting
    ) {
      this.spawn();
    }
  }

  private assign(worker: PoolWorker, job: Pending): void {
    worker.job = job;
    worker.channel.send({ ...job.message, id: this.nextId++ } as RunMessage);
  }

  private spawn(): void {
    this.starting++;
    const worker: PoolWorker = { channel: undefined as unknown as Channel, ready: false, job: undefined };
    const onReply = (reply: WorkerReply) => {
      if (reply.type === "ready") {
        this.starting--;
        worker.ready = true;
      } else {
        const job = worker.job;
        worker.job = undefined;
        job?.resolve(reply);
      }
      this.dispatch();
    };
    const onExit = (description: string) => {
      if (!this.workers.delete(worker)) return;
      if (!worker.ready) this.starting--;
      const error = new Error(`a ${this.kind} worker ${description}`);
      if (worker.job) worker.job.reject(error);
      else if (!worker.ready && !this.stopped) {
        // A worker that cannot even start would fail every job: fail the waiting ones.
        for (const job of this.queue.splice(0)) job.reject(error);
      }
      if (!this.stopped) this.dispatch();
    };
    worker.channel = this.kind === "thread" ? startThread(onReply, onExit) : startProcess(onReply, onExit);
    this.workers.add(worker);
  }

  /** Stops every worker; jobs waiting or running are rejected. */
  async stop(): Promise<void> {
    this.stopped = true;
    const error = new Error("the executor was stopped");
    for (const job of this.queue.splice(0)) job.reject(error);
    const workers = [...this.workers];
    this.workers.clear();
    for (const w of workers) w.job?.reject(error);
    await Promise.all(workers.map((w) => w.channel.terminate()));
  }
}

function startThread(onReply: (r: WorkerReply) => void, onExit: (d: string) => void): Channel {
  // execArgv [] so the parent's --import flags are not applied twice: the bootstrap registers tsx.
  const worker = new Worker(BOOTSTRAP, { execArgv: [] });
  worker.on("message", onReply);
  worker.on("error", (error) => onExit(`failed: ${error.stack ?? error.message}`));
  worker.on("exit", (code) => onExit(`exited with code ${code}`));
  return {
    send: (message) => worker.postMessage(message),
    terminate: async () => {
      await worker.terminate();
    },
  };
}

function startProcess(onReply: (r: WorkerReply) => void, onExit: (d: string) => void): Channel {
  const child: ChildProcess = fork(BOOTSTRAP, [], { execArgv: [], stdio: ["ignore", "inherit", "inherit", "ipc"] });
  child.on("message", (m) => onReply(m as WorkerReply));
  child.on("error", (error) => onExit(`failed: ${error.message}`));
  child.on("exit", (code, signal) => onExit(signal ? `was killed by ${signal}` : `exited with code ${code}`));
  return {
    send: (message) => child.send(message),
    terminate: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill();
      }),
  };
}
