/**
 * The entry of the redun runtime that Glue jobs run (bundled by ./glue-runtime.ts into
 * `node_modules/redun/glue-oneshot.js`): `redun oneshot` without the command-line
 * machinery. TypeScript support (tsx) is registered first, so the workflow's `.ts` modules
 * in the code package load; `redun` itself resolves to the runtime's own package, the same
 * modules this entry uses, so tasks register where oneshot looks them up.
 */
import { register } from "tsx/esm/api";
import { oneshot } from "../remote/oneshot.ts";

/** `--name value` pairs of the command line. */
function parseArgs(argv: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i]!;
    if (word.startsWith("--") && i + 1 < argv.length) out[word.slice(2)] = argv[++i]!;
  }
  return out;
}

register();
const args = parseArgs(process.argv.slice(2));
const code = await oneshot({ input: args.input, code: args.code, arrayJobs: args["array-jobs"] });
process.exit(code);
