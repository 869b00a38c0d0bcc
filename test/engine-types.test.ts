/**
 * Static types of the API, checked by `tsc --noEmit -p .` (assignments that only compile
 * when the types are right, and `@ts-expect-error` lines that must stay errors), plus
 * runtime checks of the same expressions on an inline executor.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  apply,
  catch_,
  cond,
  flatten,
  map_,
  namespace,
  seq,
  SchedulerExpression,
  SimpleExpression,
  throw_,
  zip_,
  type Lazy,
  type Resolved,
  type Task,
  TaskExpression,
} from "../src/index.ts";
import { withEnv } from "./helpers/engine.ts";

/** `true` only when A and B are the same type. */
type Equals<A, B> =
  (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
/** Compiles only when its type argument is `true`. */
function check<T extends true>(_value?: T): void {}

const { task: t } = namespace("engine_types");

const add = t(function add(a: number, b: number) {
  return a + b;
});
const concat = t(function concat(a: string, b: string) {
  return a + b;
});
const greet = t(async function greet(name: string) {
  await Promise.resolve();
  return `hello ${name}`;
});
const sum = t(function sum(xs: number[]) {
  return xs.reduce((a, b) => a + b, 0);
});
const area = t(function area(box: { w: number; h: number }) {
  return box.w * box.h;
});
const range = t(function range(n: number) {
  return Array.from({ length: n }, (_, i) => i);
});
const letters = t(function letters(n: number) {
  return Array.from({ length: n }, (_, i) => String.fromCharCode(97 + i));
});
const double = t(function double(x: number) {
  return x * 2;
});
const obj = t(function obj(x: number) {
  return { a: x, s: `${x}`, list: [x] };
});
const main = t(function main(x: number) {
  return add(add(x, 1), double(x));
});
const mainAsync = t(async function mainAsync(x: number) {
  return { total: add(x, 1), label: concat("n=", `${x}`), nested: [double(x)] };
});
const pair = t({ nout: 2 }, function pair(x: number) {
  return [x, `${x}`] as [number, string];
});
const applyTask = t(function applyTask(fn: Task<[number], number>, x: number) {
  return fn(x);
});
const when = t(function when(x: number) {
  return new Map([[x, new Date(x)]]);
});
const recoverToString = t(function recoverToString(error: Error) {
  return error.message;
});
const fails = t(function fails(): number {
  throw new RangeError("typed failure");
});

describe("static types", () => {
  it("a task's call is a TaskExpression of the function's result", () => {
    check<Equals<typeof add, Task<[a: number, b: number], number>>>();
    check<Equals<ReturnType<typeof add>, TaskExpression<number>>>();
    check<Equals<ReturnType<typeof greet>, TaskExpression<string>>>();
    check<Equals<ReturnType<typeof main>, TaskExpression<number>>>();
    check<
      Equals<
        ReturnType<typeof mainAsync>,
        TaskExpression<{ total: number; label: string; nested: number[] }>
      >
    >();
    check<Equals<ReturnType<typeof when>, TaskExpression<Map<number, Date>>>>();
    const e: TaskExpression<number> = add(1, 2);
    assert.ok(e instanceof TaskExpression);
  });

  it("arguments may be values or expressions of the right type, at any depth", () => {
    add(1, 2);
    add(add(1, 2), double(3));
    sum([1, add(1, 2), double(4)]);
    sum(range(3));
    area({ w: add(1, 1), h: 2 });
    area(obj(2) as unknown as TaskExpression<{ w: number; h: number }>);
    const lazyList: Lazy<number[]> = [add(1, 2), 3];
    sum(lazyList);
    // @ts-expect-error a string where a number is expected
    add("x", 2);
    // @ts-expect-error an expression of the wrong type
    add(concat("a", "b"), 1);
    // @ts-expect-error a missing argument
    add(1);
    // @ts-expect-error an extra argument
    add(1, 2, 3);
    // @ts-expect-error a wrong expression inside an array
    sum([concat("a", "b")]);
    // @ts-expect-error a wrong expression inside an object
    area({ w: concat("a", "b"), h: 1 });
    // @ts-expect-error a list of strings where numbers are expected
    sum(letters(2));
  });

  it("Resolved unwraps expressions, promises and structures", () => {
    check<Equals<Resolved<TaskExpression<number>>, number>>();
    check<Equals<Resolved<Promise<TaskExpression<string>>>, string>>();
    check<
      Equals<
        Resolved<{ a: TaskExpression<number>; b: [TaskExpression<string>, 1] }>,
        { a: number; b: [string, 1] }
      >
    >();
    check<Equals<Resolved<Date>, Date>>();
    check<Equals<Resolved<Map<string, number>>, Map<string, number>>>();
  });

  it(".get() is typed by key; unknown keys give unknown", () => {
    const a = obj(1).get("a");
    check<Equals<typeof a, SimpleExpression<number>>>();
    const first = range(3).get(0);
    check<Equals<typeof first, SimpleExpression<number>>>();
    add(obj(1).get("a"), 1);
    // @ts-expect-error a string field where a number is expected
    add(obj(1).get("s"), 1);
    // @ts-expect-error an unknown key has an unknown type
    add(obj(1).get("nope"), 1);
  });

  it("nout destructuring gives typed element expressions", () => {
    const [x, y] = pair(1);
    check<Equals<typeof x, SimpleExpression<string | number>>>();
    assert.ok(y instanceof SimpleExpression);
  });

  it("helpers are typed by their arguments", () => {
    const applied = apply((n: number, s: string) => s.repeat(n), add(1, 1), concat("a", "b"));
    check<Equals<typeof applied, SimpleExpression<string>>>();
    // @ts-expect-error apply with an argument of the wrong type
    apply((n: number) => n, concat("a", "b"));
    const chosen = cond(add(1, 1), double(1), concat("a", "b"));
    check<Equals<typeof chosen, SchedulerExpression<number | string>>>();
    const mapped = map_(double, range(3));
    check<Equals<typeof mapped, SchedulerExpression<number[]>>>();
    // @ts-expect-error mapping a number task over strings
    map_(double, letters(3));
    const seqd = seq([add(1, 2), concat("a", "b")]);
    check<Equals<typeof seqd, SchedulerExpression<readonly [number, string]>>>();
    const zipped = zip_(range(2), letters(2));
    check<Equals<typeof zipped, SchedulerExpression<(readonly [number, string])[]>>>();
    const flat = flatten([range(2), [5]]);
    check<Equals<typeof flat, SchedulerExpression<number[]>>>();
    const caught = catch_(fails(), RangeError, recoverToString);
    check<Equals<typeof caught, SchedulerExpression<number | string>>>();
    const thrown = throw_(new Error("x"));
    check<Equals<typeof thrown, SchedulerExpression<never>>>();
  });

  it("tasks are typed values", () => {
    applyTask(double, 1);
    // @ts-expect-error a task of the wrong signature
    applyTask(concat, 1);
  });

  it("Scheduler.run returns the resolved type", async () => {
    await withEnv({ mode: "inline" }, async ({ scheduler }) => {
      const r: number = await scheduler.run(add(1, 2));
      assert.equal(r, 3);
      // @ts-expect-error a number is not a string
      const wrong: string = await scheduler.run(add(1, 2));
      assert.equal(wrong, 3);
      const greeting: string = await scheduler.run(greet("you"));
      assert.equal(greeting, "hello you");
      const m: number = await scheduler.run(main(2));
      assert.equal(m, 7);
      const structured = await scheduler.run(mainAsync(3));
      check<Equals<typeof structured, { total: number; label: string; nested: number[] }>>();
      assert.deepEqual(structured, { total: 4, label: "n=3", nested: [6] });
      const list = await scheduler.run([add(1, 2), concat("a", "b")]);
      check<Equals<typeof list, (number | string)[]>>();
      assert.deepEqual(list, [3, "ab"]);
      const record = await scheduler.run({ n: add(1, 1), s: [concat("x", "y")] });
      check<Equals<typeof record, { n: number; s: string[] }>>();
      assert.deepEqual(record, { n: 2, s: ["xy"] });
      const got: number = await scheduler.run(obj(5).get("a"));
      assert.equal(got, 5);
      const seqd = await scheduler.run(seq([add(1, 2), concat("a", "b")]));
      const [n, s]: readonly [number, string] = seqd;
      assert.deepEqual([n, s], [3, "ab"]);
      const dates = await scheduler.run(when(1000));
      assert.equal(dates.get(1000)?.getTime(), 1000);
      const caught: number | string = await scheduler.run(
        catch_(fails(), RangeError, recoverToString),
      );
      assert.equal(caught, "typed failure");
      const zipped: (readonly [number, string])[] = await scheduler.run(zip_(range(2), letters(2)));
      assert.deepEqual(zipped, [
        [0, "a"],
        [1, "b"],
      ]);
      const viaTask: number = await scheduler.run(applyTask(double, 21));
      assert.equal(viaTask, 42);
    });
  });
});
