/**
 * A run whose heap grows large limits the heap's growth (scheduler/heap-growth.ts), once,
 * from its list evaluation; never over a heap flag given to Node. Each case runs in a
 * child process: the setting is for the whole process.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { describe, it } from "node:test";
import { REPO } from "./helpers/cli.ts";

/** Runs a module script in a child Node (through tsx); returns its last output line. */
function child(script: string, nodeFlags: string[] = []): unknown {
  const result = spawnSync(
    process.execPath,
    [...nodeFlags, "--import", "tsx", "--input-type=module", "-e", script],
    { cwd: REPO, encoding: "utf8", env: { ...process.env, NODE_OPTIONS: "" } },
  );
  assert.equal(result.status, 0, result.stderr);
  return JSON.parse(result.stdout.trim().split("\n").pop()!);
}

const heapGrowth = JSON.stringify(`${REPO}/src/scheduler/heap-growth.ts`);
/** Keeps ~240 MB alive (more than LARGE_HEAP_BYTES), as `held`. */
const holdLargeHeap = `
  const held = Array.from({ length: 240 }, () => new Array(128 * 1024).fill(0.5));
`;

describe("heap growth", () => {
  it("is limited once the heap is large, once", () => {
    const answers = child(`
      const { limitHeapGrowthIfLarge } = await import(${heapGrowth});
      const small = limitHeapGrowthIfLarge();
      ${holdLargeHeap}
      console.log(JSON.stringify([small, limitHeapGrowthIfLarge(), limitHeapGrowthIfLarge(), held.length]));
    `);
    assert.deepEqual(answers, [false, true, false, 240]);
  });

  it("is left to a flag given to Node", () => {
    const answers = child(
      `
      const { limitHeapGrowthIfLarge } = await import(${heapGrowth});
      ${holdLargeHeap}
      console.log(JSON.stringify([limitHeapGrowthIfLarge(), held.length]));
    `,
      ["--heap-growing-percent=30"],
    );
    assert.deepEqual(answers, [false, 240]);
  });

  it("is limited by a large run's list evaluation", () => {
    const answers = child(`
      const { limitHeapGrowthIfLarge } = await import(${heapGrowth});
      const { Scheduler, task } = await import(${JSON.stringify(`${REPO}/src/index.ts`)});
      ${holdLargeHeap}
      const leaf = task({ name: "leaf", namespace: "heap_growth" }, (i) => i);
      const fanout = task({ name: "fanout", namespace: "heap_growth" }, (n) =>
        Array.from({ length: n }, (_, i) => leaf(i)),
      );
      const scheduler = new Scheduler({
        executorConfigs: { default: { type: "local", options: { mode: "inline" } } },
        jobStatusInterval: 0,
        log: () => {},
      });
      const result = await scheduler.run(fanout(1200));
      await scheduler.close();
      // Already limited (by the evaluation of the 1,200-call list): not again.
      console.log(JSON.stringify([result.length, limitHeapGrowthIfLarge(), held.length]));
    `);
    assert.deepEqual(answers, [1200, false, 240]);
  });
});
