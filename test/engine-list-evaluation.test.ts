/**
 * The scheduler's per-job steps that usually finish at once: a long list evaluated a chunk
 * at a time with a bounded number of calls in flight, and the admission and limit steps
 * of a job, which hand back their result without a promise when nothing waits (a fan-out
 * of tiny tasks otherwise pays a suspended step per job for each).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  chunksInFlight,
  EVALUATION_CHUNK,
  evaluateInChunks,
} from "../src/scheduler/list-evaluation.ts";
import { LimitPool } from "../src/scheduler/limits.ts";
import { Admission } from "../src/backend/admission.ts";

describe("a long list is evaluated with a bounded number of calls in flight", () => {
  it("holds 8 chunks for lists up to 20,000 calls, up to 16 for longer ones", () => {
    assert.equal(chunksInFlight(600), 8);
    assert.equal(chunksInFlight(10_000), 8);
    assert.equal(chunksInFlight(20_000), 8);
    assert.equal(chunksInFlight(30_000), 12);
    assert.equal(chunksInFlight(40_000), 16);
    assert.equal(chunksInFlight(100_000), 16);
  });

  it("starts no element while that many are unfinished, and keeps the list's order", async () => {
    const length = 10_000;
    const limit = chunksInFlight(length) * EVALUATION_CHUNK;
    const pending: (() => void)[] = [];
    let started = 0;
    let finished = 0;
    let mostInFlight = 0;
    const evaluation = evaluateInChunks(
      Array.from({ length }, (_, i) => i),
      (value) => {
        started++;
        mostInFlight = Math.max(mostInFlight, started - finished);
        return new Promise((resolve) =>
          pending.push(() => {
            finished++;
            resolve((value as number) * 2);
          }),
        );
      },
    );
    // Nothing finishes until the limit is reached: the evaluation must stop there.
    while (started < limit) await new Promise((resolve) => setImmediate(resolve));
    for (let turn = 0; turn < 5; turn++) await new Promise((resolve) => setImmediate(resolve));
    assert.equal(started, limit);
    // Then elements finish a few at a time, oldest first, until all are done.
    while (finished < length) {
      pending.splice(0, 97).forEach((finish) => finish());
      await new Promise((resolve) => setImmediate(resolve));
    }
    const results = await evaluation;
    assert.equal(mostInFlight, limit);
    assert.deepEqual(
      results,
      Array.from({ length }, (_, i) => i * 2),
    );
  });
});

describe("a job's admission and limits answer at once when nothing waits", () => {
  it("a limit that is free is taken without a promise; a taken one is waited for", async () => {
    const limits = new LimitPool({ db: 1 });
    const none = limits.acquire(new Map());
    assert.equal(typeof none, "function");
    const first = limits.acquire(new Map([["db", 1]]));
    assert.equal(typeof first, "function");
    const second = limits.acquire(new Map([["db", 1]]));
    assert.ok(second instanceof Promise);
    let granted = false;
    void second.then(() => (granted = true));
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(granted, false);
    (first as () => void)();
    const release = await second;
    assert.equal(granted, true);
    release();
    assert.equal(typeof limits.acquire(new Map([["db", 1]])), "function");
  });

  it("a job is admitted without a promise while there is room; later ones wait for it", async () => {
    let queued = 0;
    const admission = new Admission(() => queued, 100);
    const leave = admission.enter();
    assert.equal(typeof leave, "function");
    queued = 100;
    const waiting = admission.enter();
    assert.ok(waiting instanceof Promise);
    queued = 0;
    (leave as () => void)();
    assert.equal(typeof (await waiting), "function");
  });
});
