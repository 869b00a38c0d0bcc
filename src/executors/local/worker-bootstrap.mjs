// Entry point of pool workers (threads and child processes), started beside the pool's own
// module: in dist/ (compiled) or in src/ (redun run from its sources, as in its tests).
// Compiled, the worker code and redun's index load natively first, then TypeScript support
// goes in for the workflow modules the worker will import (loader/enable.mjs says why in
// that order). From src/, TypeScript support comes first: Node 20 cannot load a .ts worker
// by itself. Either way the worker says it is ready only once workflows can be imported.
import fs from "node:fs";
import { enableTypeScript } from "../../loader/enable.mjs";

const compiled = fs.existsSync(new URL("./worker-main.js", import.meta.url));
const ext = compiled ? ".js" : ".ts";
const main = new URL(`./worker-main${ext}`, import.meta.url).href;
const index = new URL(`../../index${ext}`, import.meta.url).href;

if (compiled) {
  const { startWorker } = await import(main);
  await enableTypeScript([index]);
  startWorker();
} else {
  await enableTypeScript();
  const { startWorker } = await import(main);
  startWorker();
}
