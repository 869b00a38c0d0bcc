/**
 * A pool of workers (threads or child processes), each running one job at a time.
 *
 * Growth is adaptive: up to one worker per CPU start as soon as jobs wait; more (up to
 * `max_workers`) start only while every worker is tied up by a job that has run for a
 * while, which is when more workers help (I/O-bound or sleeping tasks). A fan-out of tiny
 * tasks so stays on a few workers instead of paying for twenty.
 */
import { fork, type ChildProcess } from "node:child_process";
import os from "node:os";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { Fifo } from "../../values/fifo.ts";
import type { RunMessage, WorkerReply } from "./protocol.ts";

const BOOTSTRAP = fileURLToPath(new URL("./worker-bootstrap.mjs", import.meta.url));

/** Jobs this long on average (as the workers measure them) make the pool grow past the CPUs. */
const LONG_JOB_MS = 10;
/** How often to look again while jobs wait. */
const GROWTH_CHECK_MS = 25;
/** Workers all busy this long with one job each make the pool grow whatever the average. */
const STUCK_MS = 1000;
/** Jobs queued on one worker at once when others wait: hides the message round trip. */
const PIPELINE_DEPTH = 2;

/** A worker as the pool sees it, whatever it runs on. */
interface Channel {
  send(message: RunMessage): void;
  terminate(): Promise<void>;
}

interface PoolWorker {
  channel: Channel;
  ready: boolean;
  /** Jobs sent to the worker, oldest (running) first; it runs them in order. */
  jobs: Pending[];
  /** Whether it has finished a job: its first job includes importing the workflow. */
  warm: boolean;
}

interface Pending {
  message: Omit<RunMessage, "id">;
  id?: number;
  sentAt?: number;
  resolve(reply: WorkerReply & { type: "done" }): void;
  reject(error: Error): void;
}

/** Thread or process pool. */
export class WorkerPool {
  private readonly workers = new Set<PoolWorker>();
  private readonly queue = new Fifo<Pending>();
  private starting = 0;
  private nextId = 1;
  private stopped = false;
  private growthTimer: NodeJS.Timeout | undefined;
  private readonly cpus = Math.max(1, os.availableParallelism());
  /** Moving average of how long jobs take inside the workers. */
  private averageJobMs = 0;
  /** Jobs that went into the average (a worker's first job, which imports the workflow, does not). */
  private measuredJobs = 0;

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
    // Idle workers first; then, only once jobs are known to be short, a second job on busy
    // workers (long jobs queued behind running ones would wait instead of getting workers).
    const jobsAreShort = this.measuredJobs > 0 && this.averageJobMs < LONG_JOB_MS;
    for (const depth of jobsAreShort ? [1, PIPELINE_DEPTH] : [1]) {
      for (const worker of this.workers) {
        while (this.queue.length > 0 && worker.ready && worker.jobs.length < depth) {
          if (depth > 1 && this.queue.length <= this.idleCapacity()) break;
          this.assign(worker, this.queue.shift()!);
        }
      }
    }
    while (this.shouldSpawn()) this.spawn();
    this.watchGrowth();
  }

  /** Jobs that workers starting now will take. */
  private idleCapacity(): number {
    return this.starting;
  }

  private shouldSpawn(): boolean {
    const total = this.workers.size;
    if (
      this.queue.length <= this.starting ||
      total >= this.maxWorkers ||
      this.starting >= this.cpus
    )
      return false;
    if (total < this.cpus) return true;
    // Past one worker per CPU, more workers only help when jobs wait on something else
    // (I/O, sleeps, subprocesses): jobs that are long as the workers themselves measure
    // them, not merely slow because the CPUs are busy.
    // Every worker held for a long time is reason enough, even before any job has finished
    // (jobs that wait for each other would otherwise never all start).
    const now = Date.now();
    let oldest = Infinity;
    let allWarm = true;
    for (const w of this.workers) {
      const running = w.jobs[0];
      if (!w.ready || !running) return false;
      allWarm &&= w.warm;
      oldest = Math.min(oldest, now - running.sentAt!);
    }
    return (
      (allWarm && this.averageJobMs >= LONG_JOB_MS && oldest >= GROWTH_CHECK_MS) ||
      oldest >= STUCK_MS
    );
  }

  /** While jobs wait, look again shortly: running jobs may become "long". */
  private watchGrowth(): void {
    if (this.growthTimer || this.queue.length === 0 || this.workers.size >= this.maxWorkers) return;
    this.growthTimer = setTimeout(() => {
      this.growthTimer = undefined;
      if (!this.stopped) this.dispatch();
    }, GROWTH_CHECK_MS);
    this.growthTimer.unref();
  }

  private assign(worker: PoolWorker, job: Pending): void {
    job.id = this.nextId++;
    job.sentAt = Date.now();
    worker.jobs.push(job);
    worker.channel.send({ ...job.message, id: job.id } as RunMessage);
  }

  private spawn(): void {
    this.starting++;
    const worker: PoolWorker = {
      channel: undefined as unknown as Channel,
      ready: false,
      jobs: [],
      warm: false,
    };
    const onReply = (reply: WorkerReply) => {
      if (reply.type === "ready") {
        this.starting--;
        worker.ready = true;
      } else {
        const index = worker.jobs.findIndex((j) => j.id === reply.id);
        const [job] = worker.jobs.splice(index, 1);
        if (worker.warm) {
          this.averageJobMs =
            this.measuredJobs === 0 ? reply.ms : 0.8 * this.averageJobMs + 0.2 * reply.ms;
          this.measuredJobs++;
        }
        worker.warm = true;
        // The next queued job starts now on the worker: its clock starts now too.
        if (worker.jobs[0]) worker.jobs[0].sentAt = Date.now();
        job?.resolve(reply);
      }
      this.dispatch();
    };
    const onExit = (description: string) => {
      if (!this.workers.delete(worker)) return;
      if (!worker.ready) this.starting--;
      const error = new Error(`a ${this.kind} worker ${description}`);
      for (const job of worker.jobs.splice(0)) job.reject(error);
      if (!worker.ready && !this.stopped) {
        // A worker that cannot even start would fail every job: fail the waiting ones.
        for (const job of this.queue.drain()) job.reject(error);
      }
      if (!this.stopped) this.dispatch();
    };
    worker.channel =
      this.kind === "thread" ? startThread(onReply, onExit) : startProcess(onReply, onExit);
    this.workers.add(worker);
  }

  /** Stops every worker; jobs waiting or running are rejected. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.growthTimer);
    const error = new Error("the executor was stopped");
    for (const job of this.queue.drain()) job.reject(error);
    const workers = [...this.workers];
    this.workers.clear();
    for (const w of workers) for (const job of w.jobs.splice(0)) job.reject(error);
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
  const child: ChildProcess = fork(BOOTSTRAP, [], {
    execArgv: [],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  child.on("message", (m) => onReply(m as WorkerReply));
  child.on("error", (error) => onExit(`failed: ${error.message}`));
  child.on("exit", (code, signal) =>
    onExit(signal ? `was killed by ${signal}` : `exited with code ${code}`),
  );
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
