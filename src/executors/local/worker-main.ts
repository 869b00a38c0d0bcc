/**
 * A pool worker: imports workflow modules on demand and runs tasks by fullname. Runs in a
 * worker thread or a child process; the transport is the only difference.
 */
import { parentPort } from "node:worker_threads";
import { getTask } from "../../api/task.ts";
import { decodeValue, encodeValue, type Wire } from "../../values/serialize.ts";
import { importTaskModules } from "../modules.ts";
import { runTask } from "../run-task.ts";
import type { PoolMessage, RunMessage, WorkerReply } from "./protocol.ts";
import { coalescing, eachMessage, type Batch } from "./coalesce.ts";

// Replies of tiny jobs that finish in one turn of the event loop go together; any other
// reply goes at once (the job queued next may keep the thread busy for long).
const send = coalescing<WorkerReply>(
  parentPort
    ? (reply) => parentPort!.postMessage(reply)
    : // A scheduler that is gone (it may exit before a worker it started early is ready)
      // leaves nobody to tell: end quietly.
      (reply) => process.send!(reply, undefined, {}, (error) => error && process.exit(0)),
  setImmediate,
);
/** Jobs at least this long (in milliseconds) reply at once. */
const TINY_JOB_MS = 0.5;

function reply(done: WorkerReply & { type: "done" }): void {
  if (done.ms < TINY_JOB_MS) send(done);
  else send.now(done);
}

/** When the worker last finished a job (or started): its idle time runs from there. */
let idleSince = performance.now();

async function handle(message: RunMessage): Promise<void> {
  const started = performance.now();
  const idleMs = started - idleSince;
  const ms = () => {
    idleSince = performance.now();
    return idleSince - started;
  };
  try {
    await importTaskModules(message.args, [message.module]);
    const task = getTask(message.task);
    if (!task) {
      throw new Error(`task "${message.task}" is not defined after importing ${message.module}`);
    }
    const args = decodeValue(message.args) as unknown[];
    const options = message.options
      ? (decodeValue(message.options) as Record<string, unknown>)
      : {};
    // At once: a task that keeps the thread busy would otherwise hold it back, and its
    // timeout would never start.
    if (message.timed) send.now({ type: "started", id: message.id });
    const result = await runTask(task, args, options);
    reply({
      type: "done",
      id: message.id,
      ok: true,
      result: encodeValue(result, `result of task "${message.task}"`),
      ms: ms(),
      idleMs,
    });
  } catch (error) {
    reply({ type: "done", id: message.id, ok: false, error: encodeError(error), ms: ms(), idleMs });
  }
}

function encodeError(error: unknown): Wire {
  try {
    return encodeValue(error instanceof Error ? error : new Error(String(error)));
  } catch {
    return encodeValue(new Error(String(error)));
  }
}

/**
 * Starts serving jobs and tells the pool the worker is ready. Called by the bootstrap
 * (worker-bootstrap.mjs) once workflow modules can be imported.
 */
export function startWorker(): void {
  // One job at a time, in the order sent: the pool may queue more jobs here to hide the
  // message round trip (and take back those not started), but a worker is still one worker.
  const waiting: (RunMessage | (() => Promise<void>))[] = [];
  let busy = false;
  const next = (): void => {
    if (busy) return;
    const item = waiting.shift();
    if (!item) return;
    busy = true;
    void (typeof item === "function" ? item() : handle(item)).finally(() => {
      busy = false;
      next();
    });
  };
  const onMessage = (message: PoolMessage | Batch<PoolMessage>) =>
    eachMessage(message, (m) => {
      if (m?.type === "run") waiting.push(m);
      else if (m?.type === "preload")
        waiting.push(() => importTaskModules([], m.modules).catch(() => {}));
      else if (m?.type === "reclaim") {
        const ids = new Set(m.ids);
        const reclaimed: number[] = [];
        for (let i = waiting.length - 1; i >= 0; i--) {
          const item = waiting[i]!;
          if (typeof item !== "function" && ids.has(item.id)) {
            reclaimed.unshift(item.id);
            waiting.splice(i, 1);
          }
        }
        send.now({ type: "reclaimed", ids: reclaimed });
      }
      next();
    });
  if (parentPort) {
    parentPort.on("message", onMessage);
  } else {
    process.on("message", onMessage);
    // A Ctrl-C in a terminal reaches the whole process group: the scheduler decides what
    // happens to this worker's job (it lets it finish for a moment, then stops the worker).
    process.on("SIGINT", () => {});
    // A scheduler that died (even by SIGKILL) leaves no worker behind.
    process.on("disconnect", () => process.exit(0));
  }
  send({ type: "ready" });
}
