/**
 * A pool of workers (threads or child processes), each running one job at a time, with an
 * optional heap limit for its workers (`maxMemory`) and per-job time limits (`timeout`): a
 * worker past either is stopped and replaced, and only its running job fails.
 *
 * Growth is adaptive: the first worker starts with the first job; more, up to one per CPU,
 * once the queued jobs add up to more work than starting a worker costs while the workers
 * are kept busy, or a job has run for a while; more still (up to `max_workers`) only while
 * every worker is tied up by a job that has run for a while, which is when more workers
 * help (I/O-bound or sleeping tasks). A fan-out of tiny tasks so stays on one worker
 * instead of paying for twenty. Jobs queued on a worker behind one that turns out long are
 * taken back for another worker.
 */
import os from "node:os";
import { Fifo } from "../../values/fifo.ts";
import type { RunMessage, WorkerReply } from "./protocol.ts";
import { startProcess, startThread, type Channel, type OnExit } from "./channel.ts";

/** Jobs this long on average (as the workers measure them) make the pool grow past the CPUs. */
const LONG_JOB_MS = 10;
/** How often to look again while jobs wait. */
const GROWTH_CHECK_MS = 25;
/** Workers all busy this long with one job each make the pool grow whatever the average. */
const STUCK_MS = 1000;
/** Jobs queued on one worker at once when others wait: hides the message round trip. */
const PIPELINE_DEPTH = 2;
/** Jobs shorter than this (on average) are queued deeper, and so go to workers in batches. */
const TINY_JOB_MS = 0.5;
/** How many tiny jobs a worker may have queued. */
const TINY_PIPELINE_DEPTH = 16;
/**
 * About what starting a worker costs (a thread, redun, TypeScript support, the workflow):
 * a second worker starts only for more queued work than this, or for a job that runs long.
 */
const WORKER_START_MS = 150;
/**
 * How busy workers must be (the share of their time spent in jobs, not waiting for the
 * next) before another one starts: workers that often wait are fed too slowly by the
 * scheduler (tiny jobs), and one more would only take CPU from it.
 */
const BUSY_SHARE = 0.75;
/** Jobs measured before their average decides growth (the first ones run cold code). */
const SETTLED_AFTER_JOBS = 16;

/** What a job's limits mean to the pool. */
export interface JobLimits {
  /** How long the task may run once it starts on its worker, in milliseconds. */
  timeoutMs?: number;
  /** The error of a job stopped at its timeout. */
  timedOut(): Error;
  /** The error of a job whose worker ran out of memory. */
  outOfMemory(): Error;
}

interface PoolWorker {
  channel: Channel;
  ready: boolean;
  /** Jobs sent to the worker, oldest (running) first; it runs them in order. */
  jobs: Pending[];
  /** Whether it has finished a job: its first job includes importing the workflow. */
  warm: boolean;
  /** Jobs queued behind a long one are being taken back (see {@link WorkerPool.reclaim}). */
  reclaiming: boolean;
}

/**
 * The job a worker is running, if any. (Reading `jobs[0]` of an empty array would do, but
 * the first read past an array's end in a function V8 has optimized throws that optimized
 * code away, to be compiled again on another core.)
 */
function runningJob(worker: PoolWorker): Pending | undefined {
  return worker.jobs.length > 0 ? worker.jobs[0] : undefined;
}

interface Pending {
  message: Omit<RunMessage, "id">;
  limits?: JobLimits;
  id?: number;
  sentAt?: number;
  /** Fails the job at its timeout (armed when the worker says the task started). */
  timer?: NodeJS.Timeout;
  /** Growth checks that found it running (see {@link WorkerPool.shouldSpawn}). */
  growthChecks: number;
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
  /** Recent time workers spent in jobs and waiting for them (decaying sums, see {@link BUSY_SHARE}). */
  private recentBusyMs = 0;
  private recentIdleMs = 0;

  /**
   * @param maxMemoryMb - the JavaScript heap limit of each worker, in MiB (none if absent).
   */
  constructor(
    readonly kind: "thread" | "process",
    readonly maxWorkers: number,
    readonly maxMemoryMb?: number,
  ) {}

  /**
   * Starts a worker (unless there is one) that imports these workflow modules now, before
   * any job: a run's first job then need not wait for a worker to start.
   */
  preload(modules: string[]): void {
    if (this.stopped) return;
    if (this.workers.size === 0) this.spawn();
    for (const worker of this.workers) worker.channel.send({ type: "preload", modules });
  }

  /** Runs a task message on some worker. */
  run(
    message: Omit<RunMessage, "id">,
    limits?: JobLimits,
  ): Promise<WorkerReply & { type: "done" }> {
    if (this.stopped) return Promise.reject(new Error("the worker pool is stopped"));
    if (limits?.timeoutMs !== undefined) message = { ...message, timed: true };
    return new Promise((resolve, reject) => {
      this.queue.push({ message, limits, resolve, reject, growthChecks: 0 });
      this.dispatch();
    });
  }

  /** @param growthCheck - called by the growth timer (see {@link watchGrowth}). */
  private dispatch(growthCheck = false): void {
    // Idle workers first; then, only once jobs are known to be short, a second job on busy
    // workers (long jobs queued behind running ones would wait instead of getting workers).
    const jobsAreShort = this.measuredJobs > 0 && this.averageJobMs < LONG_JOB_MS;
    const deep = this.averageJobMs < TINY_JOB_MS ? TINY_PIPELINE_DEPTH : PIPELINE_DEPTH;
    for (const depth of jobsAreShort ? [1, deep] : [1]) {
      for (const worker of this.workers) {
        // Nothing more behind a job a growth check found running: it may be long.
        if (depth > 1 && (worker.reclaiming || (runningJob(worker)?.growthChecks ?? 0) > 0))
          continue;
        while (this.queue.length > 0 && worker.ready && worker.jobs.length < depth) {
          if (depth > 1 && this.queue.length <= this.idleCapacity()) break;
          this.assign(worker, this.queue.shift()!);
        }
      }
    }
    if (growthCheck) {
      for (const worker of this.workers) {
        const running = runningJob(worker);
        if (running && ++running.growthChecks >= 2) this.reclaim(worker);
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
    if (total === 0) return true;
    if (total < this.cpus) {
      // Worth a worker: a job found running by two growth checks in a row (between two
      // checks the event loop has read the replies that came, so that job really is long,
      // whereas its age alone may be the scheduler's own delay in reading a reply), or
      // queued work that outlasts a worker's start while the workers are kept busy.
      if ([...this.workers].some((w) => (runningJob(w)?.growthChecks ?? 0) >= 2)) return true;
      return (
        this.measuredJobs >= SETTLED_AFTER_JOBS &&
        this.recentBusyMs >= BUSY_SHARE * (this.recentBusyMs + this.recentIdleMs) &&
        this.queue.length * this.averageJobMs >= WORKER_START_MS
      );
    }
    // Past one worker per CPU, more workers only help when jobs wait on something else
    // (I/O, sleeps, subprocesses): jobs that are long as the workers themselves measure
    // them, not merely slow because the CPUs are busy.
    // Every worker held for a long time is reason enough, even before any job has finished
    // (jobs that wait for each other would otherwise never all start).
    const now = Date.now();
    let oldest = Infinity;
    let allWarm = true;
    for (const w of this.workers) {
      const running = runningJob(w);
      if (!w.ready || !running) return false;
      allWarm &&= w.warm;
      oldest = Math.min(oldest, now - running.sentAt!);
    }
    return (
      (allWarm && this.averageJobMs >= LONG_JOB_MS && oldest >= GROWTH_CHECK_MS) ||
      oldest >= STUCK_MS
    );
  }

  /**
   * Takes back the jobs queued on a worker behind a job that runs long (those it has not
   * started): they go back to the queue, for another worker.
   */
  private reclaim(worker: PoolWorker): void {
    if (worker.reclaiming || worker.jobs.length < 2) return;
    worker.reclaiming = true;
    worker.channel.send({ type: "reclaim", ids: worker.jobs.slice(1).map((job) => job.id!) });
  }

  /** Jobs a worker gave back (see {@link reclaim}): first in the queue again. */
  private reclaimed(worker: PoolWorker, ids: readonly number[]): void {
    worker.reclaiming = false;
    const back = new Set(ids);
    const jobs = worker.jobs.filter((job) => back.has(job.id!));
    worker.jobs = worker.jobs.filter((job) => !back.has(job.id!));
    const rest = this.queue.drain();
    for (const job of [...jobs, ...rest]) this.queue.push(job);
  }

  /** While jobs wait, look again shortly: running jobs may become "long". */
  private watchGrowth(): void {
    const pipelined = [...this.workers].some((w) => w.jobs.length > 1);
    if (
      this.growthTimer ||
      (this.queue.length === 0 && !pipelined) ||
      this.workers.size >= this.maxWorkers
    )
      return;
    this.growthTimer = setTimeout(() => {
      this.growthTimer = undefined;
      if (!this.stopped) this.dispatch(true);
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
      reclaiming: false,
    };
    const onReply = (reply: WorkerReply) => {
      if (reply.type === "ready") {
        this.starting--;
        worker.ready = true;
      } else if (reply.type === "started") {
        const job = worker.jobs.find((j) => j.id === reply.id);
        if (job?.limits?.timeoutMs !== undefined) {
          job.timer = setTimeout(() => this.timeOut(worker, job), job.limits.timeoutMs);
        }
        return;
      } else if (reply.type === "reclaimed") {
        this.reclaimed(worker, reply.ids);
      } else {
        const index = worker.jobs.findIndex((j) => j.id === reply.id);
        if (index < 0) return; // Timed out just before its reply came.
        const [job] = worker.jobs.splice(index, 1);
        clearTimeout(job?.timer);
        if (worker.warm) {
          this.averageJobMs =
            this.measuredJobs === 0 ? reply.ms : 0.8 * this.averageJobMs + 0.2 * reply.ms;
          this.recentBusyMs = 0.98 * this.recentBusyMs + reply.ms;
          this.recentIdleMs = 0.98 * this.recentIdleMs + reply.idleMs;
          this.measuredJobs++;
        }
        worker.warm = true;
        // The next queued job starts now on the worker: its clock starts now too.
        const next = runningJob(worker);
        if (next) next.sentAt = Date.now();
        job?.resolve(reply);
      }
      this.dispatch();
    };
    const onExit: OnExit = (description, outOfMemory = false) => {
      if (!this.workers.delete(worker)) return;
      if (!worker.ready) this.starting--;
      const error = new Error(`a ${this.kind} worker ${description}`);
      const [running, ...waiting] = worker.jobs.splice(0);
      if (running) {
        clearTimeout(running.timer);
        running.reject(outOfMemory && running.limits ? running.limits.outOfMemory() : error);
      }
      // Jobs queued behind it never started: another worker takes them.
      for (const job of waiting) {
        if (this.stopped) job.reject(error);
        else this.queue.push(job);
      }
      if (!worker.ready && !this.stopped) {
        // A worker that cannot even start would fail every job: fail the waiting ones.
        for (const job of this.queue.drain()) job.reject(error);
      }
      if (!this.stopped) this.dispatch();
    };
    worker.channel =
      this.kind === "thread"
        ? startThread(onReply, onExit, this.maxMemoryMb)
        : startProcess(onReply, onExit, this.maxMemoryMb);
    this.workers.add(worker);
  }

  /** A job past its timeout: it fails, its worker is stopped and replaced. */
  private timeOut(worker: PoolWorker, job: Pending): void {
    if (runningJob(worker) !== job || !this.workers.delete(worker)) return;
    const [, ...waiting] = worker.jobs.splice(0);
    job.reject(job.limits!.timedOut());
    for (const next of waiting) this.queue.push(next);
    void worker.channel.terminate(true);
    if (!this.stopped) this.dispatch();
  }

  /** Stops every worker; jobs waiting or running are rejected. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.growthTimer);
    const error = new Error("the executor was stopped");
    for (const job of this.queue.drain()) job.reject(error);
    const workers = [...this.workers];
    this.workers.clear();
    for (const w of workers) {
      for (const job of w.jobs.splice(0)) {
        clearTimeout(job.timer);
        job.reject(error);
      }
    }
    await Promise.all(workers.map((w) => w.channel.terminate()));
  }
}
