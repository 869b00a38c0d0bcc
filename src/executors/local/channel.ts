/**
 * Starting one pool worker, on a thread or a child process, and telling the pool how it
 * ended. A worker with a heap limit (`maxMemory`) that passes it ends as "out of memory":
 * a thread by Node's own error, a process by V8's fatal report, which is recognised on its
 * standard error and kept off the user's terminal (it is a crash dump of Node internals).
 */
import type { ChildProcess } from "node:child_process";
import { childProcess, workerThreads } from "../../values/lazy-builtins.ts";
import { fileURLToPath } from "node:url";
import type { Worker } from "node:worker_threads";
import type { PoolMessage, WorkerReply } from "./protocol.ts";
import { coalescing, eachMessage, type Batch } from "./coalesce.ts";
import { codeUrl } from "../../values/package-root.ts";

const BOOTSTRAP = fileURLToPath(codeUrl("executors/local/worker-bootstrap.mjs"));

/** A worker as the pool sees it, whatever it runs on. */
export interface Channel {
  send(message: PoolMessage): void;
  /** Stops the worker; `kill` stops a process worker even if it ignores SIGTERM. */
  terminate(kill?: boolean): Promise<void>;
}

/** How a worker ended: what to say, and whether it ran out of memory. */
export type OnExit = (description: string, outOfMemory?: boolean) => void;

/** Starts a worker thread, with a heap limit in MiB if given. */
export function startThread(
  onReply: (r: WorkerReply) => void,
  onExit: OnExit,
  maxMemoryMb: number | undefined,
): Channel {
  // execArgv [] so the parent's --import flags are not applied twice: the bootstrap registers tsx.
  const worker = new (workerThreads().Worker)(BOOTSTRAP, {
    execArgv: [],
    ...(maxMemoryMb !== undefined && { resourceLimits: { maxOldGenerationSizeMb: maxMemoryMb } }),
  });
  worker.on("message", (m: WorkerReply | Batch<WorkerReply>) => eachMessage(m, onReply));
  worker.on("error", (error: Error & { code?: string }) => {
    if (error.code === "ERR_WORKER_OUT_OF_MEMORY") onExit("ran out of memory", true);
    else onExit(`failed: ${error.stack ?? error.message}`);
  });
  worker.on("exit", (code) => onExit(`exited with code ${code}`));
  return {
    send: coalescing<PoolMessage>((m) => worker.postMessage(m), queueMicrotask),
    terminate: async () => {
      await worker.terminate();
    },
  };
}

/** Starts a child-process worker, with a heap limit in MiB if given. */
export function startProcess(
  onReply: (r: WorkerReply) => void,
  onExit: OnExit,
  maxMemoryMb: number | undefined,
): Channel {
  const limited = maxMemoryMb !== undefined;
  const child: ChildProcess = childProcess().fork(BOOTSTRAP, [], {
    execArgv: limited ? [`--max-old-space-size=${maxMemoryMb}`] : [],
    // Only a limited worker's standard error goes through us (to catch V8's report).
    stdio: ["ignore", "inherit", limited ? "pipe" : "inherit", "ipc"],
  });
  const stderr = limited && child.stderr ? filterHeapReport(child.stderr) : undefined;
  child.on("message", (m) => eachMessage(m as WorkerReply | Batch<WorkerReply>, onReply));
  child.on("error", (error) => onExit(`failed: ${error.message}`));
  child.on("exit", (code, signal) => {
    stderr?.flush();
    const outOfMemory = stderr?.sawHeapReport() ?? false;
    if (outOfMemory) onExit("ran out of memory", true);
    else onExit(signal ? `was killed by ${signal}` : `exited with code ${code}`);
  });
  return {
    send: coalescing<PoolMessage>((m) => child.send(m), queueMicrotask),
    terminate: (kill = false) =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill(kill ? "SIGKILL" : "SIGTERM");
      }),
  };
}

/** The first lines of V8's fatal out-of-memory report (Node 20 to 24). */
const HEAP_REPORT = [
  /^<--- Last few GCs --->/,
  /^FATAL ERROR: .*heap (limit|out of memory)/i,
  /^----- Native stack trace -----/,
];

/** How long a line without its end waits before it is shown anyway (a progress bar). */
const PARTIAL_LINE_MS = 100;

/**
 * Passes a worker's standard error on to ours, line by line, until V8's out-of-memory
 * report starts: that report and all after it (the worker is dying) are dropped.
 */
function filterHeapReport(stream: NodeJS.ReadableStream): {
  flush(): void;
  sawHeapReport(): boolean;
} {
  let partial = "";
  let dropping = false;
  let timer: NodeJS.Timeout | undefined;
  const write = (text: string) => {
    if (text) process.stderr.write(text);
  };
  const flush = () => {
    clearTimeout(timer);
    timer = undefined;
    if (!dropping && partial && !HEAP_REPORT.some((re) => re.test(partial))) write(partial);
    partial = "";
  };
  stream.setEncoding("utf8");
  stream.on("data", (chunk: string) => {
    if (dropping) return;
    const lines = (partial + chunk).split("\n");
    partial = lines.pop()!;
    let out = "";
    for (const line of lines) {
      if (HEAP_REPORT.some((re) => re.test(line))) {
        dropping = true;
        // V8 starts its report with an empty line: it is the report's, not the task's.
        write(out.endsWith("\n\n") || out === "\n" ? out.slice(0, -1) : out);
        partial = "";
        clearTimeout(timer);
        return;
      }
      out += line + "\n";
    }
    write(out);
    clearTimeout(timer);
    timer = partial ? setTimeout(flush, PARTIAL_LINE_MS) : undefined;
    timer?.unref();
  });
  return { flush, sawHeapReport: () => dropping };
}
