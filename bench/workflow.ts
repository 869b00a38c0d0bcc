/** Tasks measured by the bench: trivial work, so what is measured is the engine. */
import { namespace, type Task } from "redun";

const { task } = namespace("bench");

export const leaf = task(function leaf(i: number) {
  return i * 2;
});

/** A fan-out: one call returning `n` independent leaf calls. */
export const fanout = task(function fanout(n: number) {
  return Array.from({ length: n }, (_, i) => leaf(i));
});

/**
 * A recursive chain: each level is a job whose result is the next level's call.
 * (An arrow function: inside `function chain() {}` the name `chain` would be the plain
 * function, and the recursion would not go through the scheduler.)
 */
export const chain: Task<[number], unknown> = task({ name: "chain" }, (depth: number): unknown =>
  depth <= 0 ? 0 : chain(depth - 1),
);
