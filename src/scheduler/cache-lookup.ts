/**
 * Finding a job's result in the cache: the single reduction recorded for its eval hash, or
 * (`checkValid: "shallow"`) the final value of a call whose subtree's tasks are all still
 * defined. Every hit is checked (a `File` that changed or vanished is a miss).
 */
import type { TaskOptions } from "../api/options.ts";
import { allTasks } from "../api/task.ts";
import type { Backend } from "../backend/backend.ts";
import { catchTask } from "./internal-tasks.ts";
import type { CallResult, Job } from "./job.ts";
import { isValueValid } from "./validity.ts";

/**
 * A cache hit: one reduction to evaluate further (with the calls already recorded from it),
 * or a final call trusted as it is.
 */
export type CacheHit =
  { value: unknown; callHash?: undefined; knownCalls: readonly string[] } | CallResult;

/** Cache lookups for one execution. */
export class CacheLookup {
  private knownTaskHashes: Set<string> | undefined;
  private knownTaskCount = 0;

  constructor(private readonly backend: Backend) {}

  /**
   * The cached result for a job, if any is valid. A shallow lookup whose final value cannot
   * be replayed (something beneath changed) falls back to the single reduction, as Python
   * redun does.
   */
  async lookup(job: Job, options: TaskOptions): Promise<CacheHit | undefined> {
    const { backend } = this;
    if (options.checkValid === "shallow") {
      const hit = await backend.getCallByEvalHash(job.evalHash);
      if (
        hit &&
        hit.subtreeTaskHashes.every((h) => this.taskHashes().has(h)) &&
        (await isValueValid(hit.value))
      ) {
        return {
          value: hit.value,
          callHash: hit.callHash,
          subtreeTasks: new Set(hit.subtreeTaskHashes),
        };
      }
      // A catch_ has no single reduction of its own: its body is the whole evaluation.
      if (job.task === catchTask) return undefined;
    }
    const hit = await backend.getEvaluation(job.evalHash);
    return hit && (await isValueValid(hit.value))
      ? { value: hit.value, knownCalls: hit.callHashes ?? [] }
      : undefined;
  }

  /** Hashes of every task defined now (a shallow cache hit needs all of its subtree's). */
  private taskHashes(): Set<string> {
    const tasks = allTasks();
    if (!this.knownTaskHashes || this.knownTaskCount !== tasks.length) {
      this.knownTaskHashes = new Set(tasks.map((t) => t.hash));
      this.knownTaskCount = tasks.length;
    }
    return this.knownTaskHashes;
  }
}
