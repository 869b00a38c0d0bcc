// Entry point of pool workers (threads and child processes). Node 20 cannot start a .ts
// worker directly, so this registers tsx (TypeScript without a build step) and then loads
// the real worker code and, later, the workflow modules it is asked to import.
import { register } from "tsx/esm/api";

register();
await import("./worker-main.ts");
