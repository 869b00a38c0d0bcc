/**
 * A first workflow: run it twice and the second run replays everything from the cache;
 * change one task's code and only that task and what depends on it run again.
 *
 *   npx redun run examples/hello.ts main --x 3
 */
import { namespace, map_ } from "redun";

const { task } = namespace("hello");

/** A task is a plain function; calling it returns a lazy expression. */
export const square = task(function square(x: number) {
  return x * x;
});

export const add = task(function add(a: number, b: number) {
  return a + b;
});

export const total = task(function total(xs: number[]) {
  return xs.reduce((a, b) => a + b, 0);
});

/** Tasks compose: this one returns an expression, which the scheduler keeps evaluating. */
export const sumOfSquares = task(function sumOfSquares(xs: number[]) {
  return total(map_(square, xs));
});

export const describe = task(function describe(label: string, value: number) {
  return `${label}: ${value}`;
});

/** The entry point: `--x 3 --y 4` on the command line, typed from this signature. */
export const main = task(function main(x: number, y = 4, label = "sum of squares plus x") {
  const squares = sumOfSquares([x, y, x + y]);
  return describe(label, add(squares, x));
});
