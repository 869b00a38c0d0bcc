/**
 * Array jobs: equivalent pending jobs (same task and settings) are held for at most
 * `job_stale_time` and submitted together as one AWS Batch array job of
 * `min_array_size` to `max_array_size` children (AWS allows 2 to 10,000); the rest go
 * as single jobs.
 */

/** AWS Batch's largest array job. */
export const AWS_MAX_ARRAY_SIZE = 10_000;

/** How a group of equivalent jobs is submitted. */
export interface SubmissionPlan<T> {
  /** Each becomes one array job (index = position). */
  arrays: T[][];
  /** Each becomes one ordinary job. */
  singles: T[];
}

/** The array sizes actually used: `min` 0 disables arrays; AWS needs 2 to 10,000. */
export function arrayBounds(
  minSize: number,
  maxSize: number,
): { min: number; max: number } | undefined {
  if (minSize <= 0) return undefined;
  const max = Math.min(maxSize, AWS_MAX_ARRAY_SIZE);
  const min = Math.max(minSize, 2);
  return min > max ? undefined : { min, max };
}

/**
 * Splits equivalent jobs into array jobs of at most `maxSize` children; a chunk smaller
 * than `minSize` is submitted as single jobs.
 */
export function planSubmission<T>(
  jobs: readonly T[],
  minSize: number,
  maxSize: number,
): SubmissionPlan<T> {
  const bounds = arrayBounds(minSize, maxSize);
  if (!bounds) return { arrays: [], singles: [...jobs] };
  const plan: SubmissionPlan<T> = { arrays: [], singles: [] };
  for (let i = 0; i < jobs.length; i += bounds.max) {
    const chunk = jobs.slice(i, i + bounds.max);
    if (chunk.length >= bounds.min) plan.arrays.push(chunk);
    else plan.singles.push(...chunk);
  }
  return plan;
}

/** Options of an {@link ArrayBatcher}. */
export interface BatcherOptions<T> {
  minSize: number;
  maxSize: number;
  /** Longest wait of a job before its group is submitted, in milliseconds. */
  staleMs: number;
  /** Submits a group (called synchronously from `add` or from a timer). */
  submit(key: string, plan: SubmissionPlan<T>): void;
}

interface Group<T> {
  items: T[];
  timer: NodeJS.Timeout;
}

/**
 * Holds equivalent pending jobs by key. A group is submitted when its first job has
 * waited `staleMs`, or at once when it reaches the largest array size. With arrays
 * disabled, every job is submitted at once.
 */
export class ArrayBatcher<T> {
  private readonly groups = new Map<string, Group<T>>();
  private readonly bounds: { min: number; max: number } | undefined;

  constructor(private readonly options: BatcherOptions<T>) {
    this.bounds = arrayBounds(options.minSize, options.maxSize);
  }

  /** Adds a pending job to its group. */
  add(key: string, item: T): void {
    if (!this.bounds) {
      this.options.submit(key, { arrays: [], singles: [item] });
      return;
    }
    let group = this.groups.get(key);
    if (!group) {
      group = { items: [], timer: setTimeout(() => this.flush(key), this.options.staleMs) };
      this.groups.set(key, group);
    }
    group.items.push(item);
    if (group.items.length >= this.bounds.max) {
      const full = group.items.splice(0, this.bounds.max);
      if (group.items.length === 0) this.drop(key);
      this.options.submit(key, { arrays: [full], singles: [] });
    }
  }

  /** Submits a group now. */
  flush(key: string): void {
    const group = this.groups.get(key);
    if (!group) return;
    this.drop(key);
    this.options.submit(
      key,
      planSubmission(group.items, this.options.minSize, this.options.maxSize),
    );
  }

  /** Jobs waiting, over all groups. */
  get size(): number {
    let n = 0;
    for (const group of this.groups.values()) n += group.items.length;
    return n;
  }

  /** Forgets every waiting job and returns them (for the caller to cancel). */
  clear(): T[] {
    const items: T[] = [];
    for (const [key, group] of [...this.groups]) {
      items.push(...group.items);
      this.drop(key);
    }
    return items;
  }

  private drop(key: string): void {
    clearTimeout(this.groups.get(key)?.timer);
    this.groups.delete(key);
  }
}
