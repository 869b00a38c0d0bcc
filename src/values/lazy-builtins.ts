/**
 * Node's built-in modules that only some features use (child processes, threads, stream
 * pipelines, line-by-line reading, heap statistics), loaded on first use: each costs 1–3 ms of every
 * start when imported up front, and a cached `redun run` uses none of them.
 */
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);

export const childProcess = (): typeof import("node:child_process") =>
  require("node:child_process");
export const workerThreads = (): typeof import("node:worker_threads") =>
  require("node:worker_threads");
export const streamPromises = (): typeof import("node:stream/promises") =>
  require("node:stream/promises");
export const readline = (): typeof import("node:readline") => require("node:readline");
export const v8 = (): typeof import("node:v8") => require("node:v8");
